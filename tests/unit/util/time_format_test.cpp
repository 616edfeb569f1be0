#include "util/time_format.hpp"

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "util/ids.hpp"

using namespace ticketd::util;

TEST_CASE("times print as JavaScript's toISOString and parse back", "[time]") {
    auto t = parse_rfc3339("2026-11-23T10:15:00.123Z");
    REQUIRE(t);
    CHECK(format_rfc3339_ms(*t) == "2026-11-23T10:15:00.123Z");
    CHECK(parse_rfc3339("2026-11-23T10:15:00Z"));
    for (auto bad : {"", "2026-11-23", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                     "2026-11-23T10:15:00", "2026-11-23T10:15:00.Z", "x026-11-23T10:15:00Z"})
        CHECK(!parse_rfc3339(bad));
}

TEST_CASE("a far-future time is refused instead of overflowing the clock",
          "[time][fuzz-regression]") {
    // Found by fuzz_parsers: year 9999 overflowed system_clock's nanoseconds.
    CHECK(!parse_rfc3339("9999-12-31T23:59:59.999Z"));
    CHECK(!parse_rfc3339("4200-01-01T00:00:00Z"));
    CHECK(parse_rfc3339("2200-01-01T00:00:00Z"));
}

TEST_CASE("time-ordered ids are 32 hex characters and sort by when they were made", "[ids]") {
    auto first = ticketd::util::time_ordered_id();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto second = ticketd::util::time_ordered_id();
    CHECK(first.size() == 32);
    CHECK(first.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(first < second);
    // The first 12 characters are the unix time in milliseconds.
    auto ms = std::stoll(second.substr(0, 12), nullptr, 16);
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    CHECK(now - ms >= 0);
    CHECK(now - ms < 1000);
    CHECK(ticketd::util::time_ordered_id() != ticketd::util::time_ordered_id());
}
