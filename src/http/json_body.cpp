#include "http/json_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "http/api_error.hpp"

namespace ticketd::http {

std::string trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n\f\v";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(ws);
    return std::string(s.substr(b, e - b + 1));
}

boost::json::object json_object(const Request& req) {
    auto type = req.header("content-type");
    if (req.body.empty() && !type) return {};
    if (!type) throw ApiError::bad_request("Request body must be JSON");
    std::string_view mime = *type;
    mime = mime.substr(0, mime.find(';'));
    while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
    if (!iequals(mime, "application/json") && !(mime.size() > 5 && iequals(mime.substr(mime.size() - 5), "+json")))
        throw ApiError::bad_request("Request body must be JSON");
    if (trim(req.body).empty()) return {};
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(req.body, ec);
    if (ec || !v.is_object()) throw ApiError::bad_request("Malformed JSON body");
    return std::move(v.get_object());
}

std::string required_string(const boost::json::object& body, std::string_view key,
                            std::string_view message) {
    auto* v = body.if_contains(key);
    if (!v || !v->is_string()) throw ApiError::bad_request(std::string(message), std::string(key));
    std::string s = trim(v->get_string());
    if (s.empty()) throw ApiError::bad_request(std::string(message), std::string(key));
    return s;
}

std::optional<std::string> optional_string(const boost::json::object& body, std::string_view key) {
    auto* v = body.if_contains(key);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
}

Response json(int status, const boost::json::value& body) {
    return text_response(status, boost::json::serialize(body), "application/json; charset=utf-8");
}

}  // namespace ticketd::http
