#include "ticketd/events/ticket_events.hpp"

#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "events/json_fields.hpp"

namespace ticketd::events {
namespace json = boost::json;
using namespace detail;

void tag_invoke(json::value_from_tag, json::value& v, const TicketCreated& e) {
    v = json::object{{"id", e.id},
                     {"version", e.version},
                     {"title", e.title},
                     {"priceCents", e.price_cents},
                     {"userId", e.user_id}};
}

TicketCreated tag_invoke(json::value_to_tag<TicketCreated>, const json::value& v) {
    const auto& o = as_object(v, TicketCreated::subject);
    return {.id = get_string(o, "id"),
            .version = get_int(o, "version"),
            .title = get_string(o, "title"),
            .price_cents = get_int(o, "priceCents"),
            .user_id = get_string(o, "userId")};
}

void tag_invoke(json::value_from_tag, json::value& v, const TicketUpdated& e) {
    json::object o{{"id", e.id},
                   {"version", e.version},
                   {"title", e.title},
                   {"priceCents", e.price_cents},
                   {"userId", e.user_id}};
    if (e.order_id) o["orderId"] = *e.order_id;
    v = std::move(o);
}

TicketUpdated tag_invoke(json::value_to_tag<TicketUpdated>, const json::value& v) {
    const auto& o = as_object(v, TicketUpdated::subject);
    return {.id = get_string(o, "id"),
            .version = get_int(o, "version"),
            .title = get_string(o, "title"),
            .price_cents = get_int(o, "priceCents"),
            .user_id = get_string(o, "userId"),
            .order_id = get_optional_string(o, "orderId")};
}

}  // namespace ticketd::events
