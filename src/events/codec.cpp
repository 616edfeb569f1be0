// ticketd's event contracts, encoded and decoded here once (see ticketd/events/contract.hpp).
#include "events/json_codec.hpp"
#include "ticketd/events/all.hpp"

namespace ticketd::events {

template std::string encode(const TicketCreated&);
template TicketCreated decode<TicketCreated>(std::string_view);
template std::string encode(const TicketUpdated&);
template TicketUpdated decode<TicketUpdated>(std::string_view);
template std::string encode(const OrderCreated&);
template OrderCreated decode<OrderCreated>(std::string_view);
template std::string encode(const OrderCancelled&);
template OrderCancelled decode<OrderCancelled>(std::string_view);
template std::string encode(const OrderCompleted&);
template OrderCompleted decode<OrderCompleted>(std::string_view);
template std::string encode(const ExpirationComplete&);
template ExpirationComplete decode<ExpirationComplete>(std::string_view);
template std::string encode(const PaymentCreated&);
template PaymentCreated decode<PaymentCreated>(std::string_view);
template std::string encode(const PaymentRefunded&);
template PaymentRefunded decode<PaymentRefunded>(std::string_view);

}  // namespace ticketd::events
