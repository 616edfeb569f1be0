#include "blog/text_input.hpp"

#include <boost/json/object.hpp>

#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "util/text.hpp"

namespace blog {

std::string text_field(const boost::json::object& body, const TextRule& rule) {
    ticketd::http::Validation v;
    std::string text;
    if (auto* value = body.if_contains(rule.key); value && value->is_string())
        text = ticketd::http::trim(value->get_string());
    if (text.empty())
        v.fail(std::string(rule.required), std::string(rule.key));
    else if (ticketd::util::character_count(text) > rule.max)
        v.fail(std::string(rule.too_long), std::string(rule.key));
    v.throw_if_failed();
    return text;
}

}  // namespace blog
