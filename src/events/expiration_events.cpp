#include "ticketd/events/expiration_events.hpp"

#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "events/json_fields.hpp"

namespace ticketd::events {
namespace json = boost::json;
using namespace detail;

void tag_invoke(json::value_from_tag, json::value& v, const ExpirationComplete& e) {
    v = json::object{{"orderId", e.order_id}};
}

ExpirationComplete tag_invoke(json::value_to_tag<ExpirationComplete>, const json::value& v) {
    return {.order_id = get_string(as_object(v, ExpirationComplete::subject), "orderId")};
}

}  // namespace ticketd::events
