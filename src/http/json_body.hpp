#pragma once
// JSON in and out of handlers.
#include <optional>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "http/api_error.hpp"
#include "http/message.hpp"

namespace ticketd::http {

// The request body as a JSON object. Throws ApiError 400 "Request body must be JSON" for another
// content type, "Malformed JSON body" when it does not parse or is not an object. An empty body
// is an empty object.
boost::json::object json_object(const Request& req);

// A string member, trimmed (see trim); throws ApiError 400 (message, key as field) when missing,
// not a string or empty after trimming.
std::string required_string(const boost::json::object& body, std::string_view key,
                            std::string_view message);
// A string member as sent, or nullopt when absent or not a string.
std::optional<std::string> optional_string(const boost::json::object& body, std::string_view key);

// An integer query parameter in [min, max], or `fallback` when absent. Anything else (not an
// integer, out of range: never clamped) adds "<name> must be an integer from <min> to <max>" to
// `v`, naming the parameter, and returns `fallback`.
std::int64_t query_integer(const Request& req, std::string_view name, std::int64_t min,
                           std::int64_t max, std::int64_t fallback, Validation& v);

// JSON text for `v`, with fractional numbers written as JavaScript writes them (19.99).
std::string to_json_text(const boost::json::value& v);

// A JSON response.
Response json(int status, const boost::json::value& body);

// `s` without the white space it starts and ends with: ASCII's and Unicode's (NBSP, U+2000-200A,
// IDEOGRAPHIC SPACE, ...).
std::string trim(std::string_view s);

}  // namespace ticketd::http
