#include "events/json_fields.hpp"

#include <stdexcept>

namespace ticketd::events::detail {

const boost::json::object& as_object(const boost::json::value& v, std::string_view what) {
    if (!v.is_object()) throw std::invalid_argument(std::string(what) + " must be an object");
    return v.get_object();
}

std::string get_string(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v || !v->is_string())
        throw std::invalid_argument("event key '" + std::string(key) + "' must be a string");
    return std::string(v->get_string());
}

std::optional<std::string> get_optional_string(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string())
        throw std::invalid_argument("event key '" + std::string(key) + "' must be a string");
    return std::string(v->get_string());
}

std::int64_t get_int(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v && v->is_int64()) return v->get_int64();
    if (v && v->is_uint64() && v->get_uint64() <= INT64_MAX)
        return static_cast<std::int64_t>(v->get_uint64());
    throw std::invalid_argument("event key '" + std::string(key) + "' must be an integer");
}

const boost::json::object& get_object(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v || !v->is_object())
        throw std::invalid_argument("event key '" + std::string(key) + "' must be an object");
    return v->get_object();
}

}  // namespace ticketd::events::detail
