#include "http/json_body.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "http/api_error.hpp"

namespace ticketd::http {

std::int64_t query_integer(const Request& req, std::string_view name, std::int64_t min,
                           std::int64_t max, std::int64_t fallback, Validation& v) {
    auto text = req.query_param(name);
    if (!text) return fallback;
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (text->empty() || ec != std::errc{} || ptr != text->data() + text->size() || n < min ||
        n > max) {
        v.fail(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                   std::to_string(max),
               std::string(name));
        return fallback;
    }
    return n;
}

namespace {

// The length of the Unicode space (White_Space) that `s` starts with at `at`, in UTF-8 bytes; 0
// if none: ASCII's, NEL, NBSP, OGHAM SPACE MARK, U+2000-200A, LINE and PARAGRAPH SEPARATOR,
// NARROW NBSP, MEDIUM MATHEMATICAL SPACE, IDEOGRAPHIC SPACE.
std::size_t space_at(std::string_view s, std::size_t at) {
    auto byte = [&](std::size_t i) {
        return at + i < s.size() ? static_cast<unsigned char>(s[at + i]) : 0u;
    };
    unsigned c0 = byte(0), c1 = byte(1), c2 = byte(2);
    if (c0 == ' ' || (c0 >= '\t' && c0 <= '\r')) return 1;
    if (c0 == 0xC2 && (c1 == 0x85 || c1 == 0xA0)) return 2;
    if (c0 == 0xE1 && c1 == 0x9A && c2 == 0x80) return 3;
    if (c0 == 0xE2 && c1 == 0x80 && (c2 <= 0x8A || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF))
        return 3;
    if (c0 == 0xE2 && c1 == 0x81 && c2 == 0x9F) return 3;
    if (c0 == 0xE3 && c1 == 0x80 && c2 == 0x80) return 3;
    return 0;
}

// The length of the Unicode space that `s` ends with before `end`, in bytes; 0 if none.
std::size_t space_before(std::string_view s, std::size_t end) {
    for (std::size_t len = 1; len <= 3 && len <= end; ++len)
        if (space_at(s, end - len) == len) return len;
    return 0;
}

}  // namespace

std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e)
        if (auto n = space_at(s, b))
            b += n;
        else
            break;
    while (e > b)
        if (auto n = space_before(s, e))
            e -= n;
        else
            break;
    return std::string(s.substr(b, e - b));
}

boost::json::object json_object(const Request& req) {
    auto type = req.header("content-type");
    if (req.body.empty() && !type) return {};
    if (!type) throw ApiError::bad_request("Request body must be JSON");
    std::string_view mime = *type;
    mime = mime.substr(0, mime.find(';'));
    while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
    if (!iequals(mime, "application/json") &&
        !(mime.size() > 5 && iequals(mime.substr(mime.size() - 5), "+json")))
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

namespace {

// Like boost::json::serialize, but numbers with a fraction are written the way JavaScript does
// (19.99, not 1.999E1), so prices read naturally.
void write_json(std::string& out, const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::double_: {
            double d = v.get_double();
            char buf[64];
            auto r = std::isfinite(d)
                         ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
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
