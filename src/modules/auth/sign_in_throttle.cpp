#include "sign_in_throttle.hpp"

#include <algorithm>

namespace ticketd::auth {

SignInThrottle::SignInThrottle(const util::Clock& clock, ThrottleLimits limits)
    : clock_(clock), limits_(limits) {}

std::int64_t SignInThrottle::blocked_for(std::unordered_map<std::string, Times>& map,
                                         const std::string& key, int limit, util::TimePoint now) {
    auto it = map.find(key);
    if (it == map.end()) return 0;
    auto& times = it->second;
    while (!times.empty() && times.front() + limits_.window <= now) times.pop_front();
    if (times.empty()) {
        map.erase(it);
        return 0;
    }
    if (static_cast<int>(times.size()) < limit) return 0;
    // Allowed again once enough failures have aged out to get below the limit.
    auto until = times[times.size() - static_cast<std::size_t>(limit)] + limits_.window;
    return std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(until - now).count() + 1);
}

void SignInThrottle::add(std::unordered_map<std::string, Times>& map, const std::string& key,
                         util::TimePoint now) {
    if (map.size() >= limits_.max_keys && !map.contains(key)) {
        // Forget the key whose latest failure is oldest.
        auto oldest = std::min_element(map.begin(), map.end(), [](auto& a, auto& b) {
            return a.second.back() < b.second.back();
        });
        map.erase(oldest);
    }
    map[key].push_back(now);
}

std::int64_t SignInThrottle::retry_after(const std::string& email, const std::string& address) {
    std::lock_guard lock(mutex_);
    auto now = clock_.now();
    return std::max(blocked_for(by_email_, email, limits_.per_email, now),
                    blocked_for(by_address_, address, limits_.per_address, now));
}

void SignInThrottle::record_failure(const std::string& email, const std::string& address) {
    std::lock_guard lock(mutex_);
    auto now = clock_.now();
    add(by_email_, email, now);
    add(by_address_, address, now);
}

void SignInThrottle::record_success(const std::string& email) {
    std::lock_guard lock(mutex_);
    by_email_.erase(email);
}

}  // namespace ticketd::auth
