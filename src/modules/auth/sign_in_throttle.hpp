#pragma once
// Slows down password guessing: failed sign-ins are counted per email and per client address in
// a sliding window; past the limit, sign-ins for that email or from that address are refused
// (429) until old failures age out. A success clears the email's count. In memory: a restart
// forgets, which is acceptable for throttling. Thread-safe.
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "util/clock.hpp"

namespace ticketd::auth {

struct ThrottleLimits {
    int per_email = 10;
    int per_address = 50;  // higher: many people can share one address (NAT, offices)
    std::chrono::seconds window{15 * 60};
    std::size_t max_keys = 100000;  // memory bound; the oldest keys are forgotten first
};

class SignInThrottle {
public:
    SignInThrottle(const util::Clock& clock, ThrottleLimits limits = {});

    // Seconds until a sign-in for this email from this address is allowed again; 0 when it is.
    std::int64_t retry_after(const std::string& email, const std::string& address);
    void record_failure(const std::string& email, const std::string& address);
    void record_success(const std::string& email);

private:
    using Times = std::deque<util::TimePoint>;
    std::int64_t blocked_for(std::unordered_map<std::string, Times>& map, const std::string& key,
                             int limit, util::TimePoint now);
    void add(std::unordered_map<std::string, Times>& map, const std::string& key, util::TimePoint now);

    const util::Clock& clock_;
    ThrottleLimits limits_;
    std::mutex mutex_;
    std::unordered_map<std::string, Times> by_email_, by_address_;
};

}  // namespace ticketd::auth
