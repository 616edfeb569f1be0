#pragma once
// Request and Response as handlers see them: plain values, no Boost in this header.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::http {

struct Header {
    std::string name;
    std::string value;
};

// The signed-in user, from a valid session cookie.
struct User {
    std::string id;
    std::string email;
    std::int64_t iat = 0;  // issued at, seconds since the epoch
};

struct Request {
    std::string method;  // "GET", "POST", ...
    std::string target;  // as sent: path and query
    std::string path;    // the path as sent, without the query (params are decoded)
    std::string query;   // raw query string, without '?'
    std::vector<Header> headers;
    std::string body;
    std::string remote_address;  // the peer
    std::string client_address;  // the client: the peer, or from X-Forwarded-For (trusted proxies)
    std::string request_id;
    std::string route;  // the matched pattern ("/api/orders/:id"), set by the router
    std::map<std::string, std::string, std::less<>> params;
    std::optional<User> current_user;  // set by the router's session step

    // The first header with this name (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const;
    // A path parameter of the matched route; empty if the route has none by that name.
    std::string_view param(std::string_view name) const;
    // A query parameter, percent-decoded ('+' is a space); nullopt when absent.
    std::optional<std::string> query_param(std::string_view name) const;
    // A cookie's value from the Cookie header(s); nullopt when absent.
    std::optional<std::string> cookie(std::string_view name) const;

    const std::optional<User>& user() const { return current_user; }
    // The signed-in user; throws ApiError 401 "Not authorized" when signed out.
    const User& require_user() const;
};

struct Response {
    int status = 200;
    std::vector<Header> headers;
    std::string body;

    // Replaces any header of that name.
    void set_header(std::string_view name, std::string value);
    void add_header(std::string name, std::string value) {
        headers.push_back({std::move(name), std::move(value)});
    }
    std::optional<std::string_view> header(std::string_view name) const;
};

// A response with a body and its content type.
Response text_response(int status, std::string body, std::string content_type);
// 204 No Content.
Response no_content();

bool iequals(std::string_view a, std::string_view b);
// Percent-decodes `s`; '+' becomes a space when `plus_is_space`. Invalid escapes stay as they are.
std::string percent_decode(std::string_view s, bool plus_is_space);
// Percent-encodes every byte but the unreserved characters (letters, digits, "-_.~"): for a
// query or form value.
std::string percent_encode(std::string_view s);

}  // namespace ticketd::http
