#include "ticketd/events/order_events.hpp"

#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "events/json_fields.hpp"

namespace ticketd::events {
namespace json = boost::json;
using namespace detail;

void tag_invoke(json::value_from_tag, json::value& v, const OrderCreated& e) {
    v = json::object{
        {"id", e.id},
        {"version", e.version},
        {"status", e.status},
        {"userId", e.user_id},
        {"expiresAt", e.expires_at},
        {"ticket", json::object{{"id", e.ticket.id}, {"priceCents", e.ticket.price_cents}}}};
}

OrderCreated tag_invoke(json::value_to_tag<OrderCreated>, const json::value& v) {
    const auto& o = as_object(v, OrderCreated::subject);
    const auto& t = get_object(o, "ticket");
    return {.id = get_string(o, "id"),
            .version = get_int(o, "version"),
            .status = get_string(o, "status"),
            .user_id = get_string(o, "userId"),
            .expires_at = get_string(o, "expiresAt"),
            .ticket = {.id = get_string(t, "id"), .price_cents = get_int(t, "priceCents")}};
}

void tag_invoke(json::value_from_tag, json::value& v, const OrderCancelled& e) {
    v = json::object{
        {"id", e.id}, {"version", e.version}, {"ticket", json::object{{"id", e.ticket.id}}}};
}

OrderCancelled tag_invoke(json::value_to_tag<OrderCancelled>, const json::value& v) {
    const auto& o = as_object(v, OrderCancelled::subject);
    return {.id = get_string(o, "id"),
            .version = get_int(o, "version"),
            .ticket = {.id = get_string(get_object(o, "ticket"), "id")}};
}

void tag_invoke(json::value_from_tag, json::value& v, const OrderCompleted& e) {
    v = json::object{{"id", e.id},
                     {"version", e.version},
                     {"userId", e.user_id},
                     {"ticket", json::object{{"id", e.ticket.id}}}};
}

OrderCompleted tag_invoke(json::value_to_tag<OrderCompleted>, const json::value& v) {
    const auto& o = as_object(v, OrderCompleted::subject);
    return {.id = get_string(o, "id"),
            .version = get_int(o, "version"),
            .user_id = get_string(o, "userId"),
            .ticket = {.id = get_string(get_object(o, "ticket"), "id")}};
}

}  // namespace ticketd::events
