#include "http/message.hpp"

#include "http/api_error.hpp"

namespace ticketd::http {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string percent_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%' && i + 2 < s.size()) {
            int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += (plus_is_space && c == '+') ? ' ' : c;
    }
    return out;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string_view{} : std::string_view(it->second);
}

std::optional<std::string> Request::query_param(std::string_view name) const {
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        auto eq = pair.find('=');
        std::string key = percent_decode(pair.substr(0, eq), true);
        if (key != name) continue;
        return eq == std::string_view::npos ? std::string{}
                                            : percent_decode(pair.substr(eq + 1), true);
    }
    return std::nullopt;
}

std::optional<std::string> Request::cookie(std::string_view name) const {
    for (const auto& h : headers) {
        if (!iequals(h.name, "cookie")) continue;
        std::string_view rest = h.value;
        while (!rest.empty()) {
            auto semi = rest.find(';');
            std::string_view item = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            auto eq = item.find('=');
            if (eq == std::string_view::npos) continue;
            std::string_view key = item.substr(0, eq);
            while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
            if (key != name) continue;
            std::string_view value = item.substr(eq + 1);
            while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return std::string(value);
        }
    }
    return std::nullopt;
}

const User& Request::require_user() const {
    if (!current_user) throw ApiError::unauthorized();
    return *current_user;
}

void Response::set_header(std::string_view name, std::string value) {
    std::erase_if(headers, [&](const Header& h) { return iequals(h.name, name); });
    headers.push_back({std::string(name), std::move(value)});
}

std::optional<std::string_view> Response::header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
}

Response text_response(int status, std::string body, std::string content_type) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.set_header("Content-Type", std::move(content_type));
    return r;
}

Response no_content() {
    Response r;
    r.status = 204;
    return r;
}

}  // namespace ticketd::http
