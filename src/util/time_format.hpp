#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/clock.hpp"

namespace ticketd::util {

// "2026-11-23T10:00:00.123Z": RFC 3339 / ISO-8601 in UTC with milliseconds, as JavaScript's
// Date.prototype.toISOString writes it.
std::string format_rfc3339_ms(TimePoint t);
// Parses what format_rfc3339_ms writes (fraction optional, 'Z' required, years 1970 to 2200);
// nullopt otherwise.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

std::int64_t to_unix_ms(TimePoint t);
TimePoint from_unix_ms(std::int64_t ms);
// The system clock's time in Unix milliseconds, for bookkeeping columns that no test moves
// (business rules take the injected Clock instead).
std::int64_t unix_now_ms();

}  // namespace ticketd::util
