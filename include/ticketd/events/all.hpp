#pragma once
#include <optional>
#include <string>
#include <type_traits>

// Every event contract, for code that must know them all (the event catalog).
#include "ticketd/events/expiration_events.hpp"
#include "ticketd/events/order_events.hpp"
#include "ticketd/events/payment_events.hpp"
#include "ticketd/events/ticket_events.hpp"

namespace ticketd::events {

// Calls f.template operator()<E>() for every contract, in a stable order.
template <class F>
void for_each_contract(F&& f) {
    f.template operator()<TicketCreated>();
    f.template operator()<TicketUpdated>();
    f.template operator()<OrderCreated>();
    f.template operator()<OrderCancelled>();
    f.template operator()<OrderCompleted>();
    f.template operator()<ExpirationComplete>();
    f.template operator()<PaymentCreated>();
    f.template operator()<PaymentRefunded>();
}

// An instance with every optional field present, so a catalog sees all keys.
template <class E>
E full_sample() {
    E e{};
    if constexpr (requires { e.order_id = std::optional<std::string>{}; })
        if constexpr (std::is_same_v<decltype(e.order_id), std::optional<std::string>>)
            e.order_id = "";
    return e;
}

}  // namespace ticketd::events
