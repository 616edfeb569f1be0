#include "credentials.hpp"

#include "http/json_body.hpp"

namespace ticketd::auth {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool valid_local(std::string_view local) {
    if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.')
        return false;
    constexpr std::string_view specials = "!#$%&'*+/=?^_`{|}~.-";
    char prev = 0;
    for (char c : local) {
        if (!is_alnum(c) && specials.find(c) == std::string_view::npos) return false;
        if (c == '.' && prev == '.') return false;
        prev = c;
    }
    return true;
}

bool valid_domain(std::string_view domain) {
    if (domain.empty() || domain.size() > 253) return false;
    int labels = 0;
    std::string_view last;
    while (true) {
        auto dot = domain.find('.');
        std::string_view label = domain.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label)
            if (!is_alnum(c) && c != '-') return false;
        ++labels;
        last = label;
        if (dot == std::string_view::npos) break;
        domain.remove_prefix(dot + 1);
    }
    if (labels < 2 || last.size() < 2) return false;
    for (char c : last)
        if (c >= '0' && c <= '9') return false;  // a numeric TLD is no domain
    return true;
}

}  // namespace

std::optional<std::string> normalize_email(std::string_view raw) {
    std::string email = http::trim(raw);
    for (char& c : email)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (email.size() > 254) return std::nullopt;
    auto at = email.find('@');
    if (at == std::string::npos || email.find('@', at + 1) != std::string::npos)
        return std::nullopt;
    if (!valid_local(std::string_view(email).substr(0, at)) ||
        !valid_domain(std::string_view(email).substr(at + 1)))
        return std::nullopt;
    return email;
}

}  // namespace ticketd::auth
