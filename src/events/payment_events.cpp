#include "ticketd/events/payment_events.hpp"

#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "events/json_fields.hpp"

namespace ticketd::events {
namespace json = boost::json;
using namespace detail;

void tag_invoke(json::value_from_tag, json::value& v, const PaymentCreated& e) {
    v = json::object{{"id", e.id}, {"orderId", e.order_id}, {"stripeId", e.stripe_id}};
}

PaymentCreated tag_invoke(json::value_to_tag<PaymentCreated>, const json::value& v) {
    const auto& o = as_object(v, PaymentCreated::subject);
    return {.id = get_string(o, "id"),
            .order_id = get_string(o, "orderId"),
            .stripe_id = get_string(o, "stripeId")};
}

void tag_invoke(json::value_from_tag, json::value& v, const PaymentRefunded& e) {
    v = json::object{{"id", e.id}, {"orderId", e.order_id}, {"refundId", e.refund_id}};
}

PaymentRefunded tag_invoke(json::value_to_tag<PaymentRefunded>, const json::value& v) {
    const auto& o = as_object(v, PaymentRefunded::subject);
    return {.id = get_string(o, "id"),
            .order_id = get_string(o, "orderId"),
            .refund_id = get_string(o, "refundId")};
}

}  // namespace ticketd::events
