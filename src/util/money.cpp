#include "util/money.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/value.hpp>

namespace ticketd::util {

ParsedPrice parse_price_text(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty() || s.front() == '-') return {0, PriceError::not_positive};
    auto dot = s.find('.');
    std::string_view whole = s.substr(0, dot);
    std::string_view fraction =
        dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    if (whole.empty() && fraction.empty()) return {0, PriceError::not_positive};
    for (char c : whole)
        if (c < '0' || c > '9') return {0, PriceError::not_positive};
    for (char c : fraction)
        if (c < '0' || c > '9') return {0, PriceError::not_positive};
    while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
    while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
    if (whole.size() > 9) return {0, PriceError::too_large};
    std::int64_t units = 0;
    for (char c : whole) units = units * 10 + (c - '0');
    bool too_precise = fraction.size() > 2;
    std::int64_t cents = units * 100;
    if (fraction.size() >= 1) cents += (fraction[0] - '0') * 10;
    if (fraction.size() >= 2) cents += fraction[1] - '0';
    if (cents == 0 && !too_precise) return {0, PriceError::not_positive};
    if (units > max_price_cents / 100 || cents > max_price_cents) return {0, PriceError::too_large};
    if (too_precise) return {0, PriceError::too_many_decimals};
    return {cents, PriceError::none};
}

ParsedPrice parse_price(const boost::json::value* v) {
    if (!v) return {0, PriceError::not_positive};
    if (v->is_string()) return parse_price_text(v->get_string());
    if (v->is_int64()) {
        auto n = v->get_int64();
        if (n <= 0) return {0, PriceError::not_positive};
        if (n > max_price_cents / 100) return {0, PriceError::too_large};
        return {n * 100, PriceError::none};
    }
    if (v->is_uint64()) return {0, PriceError::too_large};
    if (v->is_double()) {
        double d = v->get_double();
        if (!std::isfinite(d) || d <= 0) return {0, PriceError::not_positive};
        if (d > 1e9) return {0, PriceError::too_large};
        // The shortest text that reads back as the same double is the decimal the client wrote
        // (for anything with at most 15 significant digits), so 19.99 becomes exactly 1999.
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
        if (r.ec != std::errc{}) return {0, PriceError::not_positive};
        return parse_price_text(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    }
    return {0, PriceError::not_positive};
}

boost::json::value cents_to_json(std::int64_t cents) {
    if (cents % 100 == 0) return boost::json::value(cents / 100);
    return boost::json::value(static_cast<double>(cents) / 100.0);
}

}  // namespace ticketd::util
