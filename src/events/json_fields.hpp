#pragma once
// Small helpers for the hand-written event mappings: read a required or optional key with a
// clear std::invalid_argument when it is missing or of the wrong type.
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace ticketd::events::detail {

const boost::json::object& as_object(const boost::json::value& v, std::string_view what);
std::string get_string(const boost::json::object& o, std::string_view key);
std::optional<std::string> get_optional_string(const boost::json::object& o, std::string_view key);
std::int64_t get_int(const boost::json::object& o, std::string_view key);
const boost::json::object& get_object(const boost::json::object& o, std::string_view key);

}  // namespace ticketd::events::detail
