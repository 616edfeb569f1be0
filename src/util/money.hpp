#pragma once
// Money is an integer number of cents inside ticketd; only the REST API shows currency units.
#include <cstdint>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace ticketd::util {

enum class PriceError { none, not_positive, too_many_decimals, too_large };

struct ParsedPrice {
    std::int64_t cents = 0;
    PriceError error = PriceError::none;
};

inline constexpr std::int64_t max_price_cents = 100'000'000;  // 1,000,000.00

// A price in currency units from a JSON number or a numeric string ("12.50"), converted exactly
// (19.99 is 1999 cents). Missing (nullptr), non-numeric or <= 0: not_positive.
ParsedPrice parse_price(const boost::json::value* v);
// The same rules for decimal text: digits with an optional '.' and fraction.
ParsedPrice parse_price_text(std::string_view text);

// Cents as a JSON number of currency units: 1999 -> 19.99, 2000 -> 20.
boost::json::value cents_to_json(std::int64_t cents);

}  // namespace ticketd::util
