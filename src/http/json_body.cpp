#include "http/json_body.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "http/api_error.hpp"

namespace ticketd::http {

std::int64_t query_integer(const Request& req, std::string_view name, std::int64_t min, std::int64_t max,
                           std::int64_t fallback, Validation& v) {
    auto text = req.query_param(name);
    if (!text) return fallback;
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (text->empty() || ec != std::errc{} || ptr != text->data() + text->size() || n < min || n > max) {
        v.fail(std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max),
               std::string(name));
        return fallback;
    }
    return n;
}

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

std::string required_string(const boost::json::object& body, std::string_view key, std::string_view message) {
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

namespace {

// Like boost::json::serialize, but numbers with a fraction are written the way JavaScript does
// (19.99, not 1.999E1), so prices read naturally.
void write_json(std::string& out, const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::double_: {
            double d = v.get_double();
            char buf[64];
            auto r = std::isfinite(d) ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                                      : std::to_chars_result{buf, std::errc::invalid_argument};
            if (r.ec == std::errc{})
                out.append(buf, r.ptr);
            else
                out += "null";
            return;
        }
        case boost::json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& item : v.get_array()) {
                if (!first) out += ',';
                first = false;
                write_json(out, item);
            }
            out += ']';
            return;
        }
        case boost::json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, item] : v.get_object()) {
                if (!first) out += ',';
                first = false;
                out += boost::json::serialize(boost::json::string(key));
                out += ':';
                write_json(out, item);
            }
            out += '}';
            return;
        }
        default: out += boost::json::serialize(v);
    }
}

}  // namespace

std::string to_json_text(const boost::json::value& v) {
    std::string out;
    out.reserve(256);
    write_json(out, v);
    return out;
}

Response json(int status, const boost::json::value& body) {
    return text_response(status, to_json_text(body), "application/json; charset=utf-8");
}

}  // namespace ticketd::http
