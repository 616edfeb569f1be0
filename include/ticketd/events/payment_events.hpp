#pragma once
// Events published by the payments module.
#include <string>

#include "ticketd/events/contract.hpp"

namespace ticketd::events {

// An order was paid. Consumed by orders (the order becomes complete).
struct PaymentCreated {
    static constexpr std::string_view subject = "payment:created";
    std::string id;
    std::string order_id;   // wire: "orderId"
    std::string stripe_id;  // the provider's charge id; wire: "stripeId"
};

// A payment that landed on a cancelled order was refunded (ticketd's addition).
struct PaymentRefunded {
    static constexpr std::string_view subject = "payment:refunded";
    std::string id;         // the payment's id
    std::string order_id;   // wire: "orderId"
    std::string refund_id;  // the provider's refund id; wire: "refundId"
};

template <>
inline constexpr bool is_contract<PaymentCreated> = true;
template <>
inline constexpr bool is_contract<PaymentRefunded> = true;

void tag_invoke(boost::json::value_from_tag, boost::json::value&, const PaymentCreated&);
PaymentCreated tag_invoke(boost::json::value_to_tag<PaymentCreated>, const boost::json::value&);
void tag_invoke(boost::json::value_from_tag, boost::json::value&, const PaymentRefunded&);
PaymentRefunded tag_invoke(boost::json::value_to_tag<PaymentRefunded>, const boost::json::value&);

}  // namespace ticketd::events
