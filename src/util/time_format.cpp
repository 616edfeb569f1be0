#include "util/time_format.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace ticketd::util {

using namespace std::chrono;

std::int64_t to_unix_ms(TimePoint t) {
    return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::int64_t unix_now_ms() { return to_unix_ms(system_clock::now()); }

TimePoint from_unix_ms(std::int64_t ms) {
    return TimePoint{duration_cast<system_clock::duration>(milliseconds{ms})};
}

std::string format_rfc3339_ms(TimePoint t) {
    std::int64_t ms = to_unix_ms(t);
    std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = static_cast<int>(ms - secs * 1000);
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.fff]Z
    if (s.size() < 20 || s.back() != 'Z') return std::nullopt;
    auto num = [&](std::size_t pos, std::size_t len, int& out) {
        auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
        return r.ec == std::errc{} && r.ptr == s.data() + pos + len;
    };
    int y, mo, d, h, mi, sec;
    if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) ||
        (s[10] != 'T' && s[10] != 't') || !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) ||
        s[16] != ':' || !num(17, 2, sec))
        return std::nullopt;
    int ms = 0;
    std::size_t pos = 19;
    if (s[pos] == '.') {
        std::size_t start = ++pos;
        while (pos < s.size() - 1 && s[pos] >= '0' && s[pos] <= '9') ++pos;
        std::size_t digits = pos - start;
        if (digits == 0) return std::nullopt;
        int scale = 100;
        for (std::size_t i = start; i < pos && i < start + 3; ++i, scale /= 10)
            ms += (s[i] - '0') * scale;
        (void)digits;
    }
    if (pos != s.size() - 1) return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    // system_clock counts nanoseconds in 64 bits: it ends in 2262.
    if (y < 1970 || y > 2200) return std::nullopt;
    year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!date.ok()) return std::nullopt;  // 30 February and the like
    auto days = sys_days{date};
    return TimePoint{days.time_since_epoch() + hours{h} + minutes{mi} + seconds{sec} +
                     milliseconds{ms}};
}

}  // namespace ticketd::util
