#include "sign_in_throttle.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace ticketd::auth {
namespace {

// Client addresses and emails cannot contain this byte, so the pair is unambiguous.
std::string pair_key(const std::string& email, const std::string& address) {
    return email + '\n' + address;
}

}  // namespace

std::int64_t WindowCounter::blocked_for(const std::string& key, int limit, util::TimePoint now) {
    auto it = times_.find(key);
    if (it == times_.end()) return 0;
    auto& times = it->second;
    while (!times.empty() && times.front() + window_ <= now) times.pop_front();
    if (times.empty()) {
        times_.erase(it);
        return 0;
    }
    if (static_cast<int>(times.size()) < limit) return 0;
    // Allowed again once enough events have aged out to get below the limit.
    auto until = times[times.size() - static_cast<std::size_t>(limit)] + window_;
    return std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(until - now).count() + 1);
}

void WindowCounter::add(const std::string& key, util::TimePoint at) {
    if (times_.size() >= max_keys_ && !times_.contains(key)) {
        // Full (keys come from clients): forget the tenth whose latest event is oldest, in one
        // pass, so that each new key costs a constant amount on average, not a scan of them all.
        std::vector<std::pair<util::TimePoint, const std::string*>> latest;
        latest.reserve(times_.size());
        for (const auto& [k, times] : times_) latest.emplace_back(times.back(), &k);
        auto cut = latest.begin() +
                   static_cast<std::ptrdiff_t>(std::max<std::size_t>(1, latest.size() / 10));
        std::nth_element(latest.begin(), cut, latest.end());
        std::vector<std::string> forget;
        for (auto it = latest.begin(); it != cut; ++it) forget.push_back(*it->second);
        for (const auto& k : forget) times_.erase(k);
    }
    times_[key].push_back(at);
}

void WindowCounter::remove(const std::string& key, util::TimePoint at) {
    auto it = times_.find(key);
    if (it == times_.end()) return;
    auto& times = it->second;
    if (auto found = std::find(times.begin(), times.end(), at); found != times.end())
        times.erase(found);
    if (times.empty()) times_.erase(it);
}

SignInThrottle::SignInThrottle(const util::Clock& clock, ThrottleLimits limits)
    : clock_(clock),
      limits_(limits),
      by_email_and_address_(limits.window, limits.max_keys),
      by_address_(limits.window, limits.max_keys),
      signups_(limits.window, limits.max_keys) {}

std::optional<SignInThrottle::Slot> SignInThrottle::begin_sign_in(const std::string& email,
                                                                  const std::string& address,
                                                                  std::int64_t& retry_after) {
    std::lock_guard lock(mutex_);
    auto now = clock_.now();
    auto key = pair_key(email, address);
    retry_after =
        std::max(by_email_and_address_.blocked_for(key, limits_.per_email_and_address, now),
                 by_address_.blocked_for(address, limits_.per_address, now));
    if (retry_after > 0) return std::nullopt;
    by_email_and_address_.add(key, now);
    by_address_.add(address, now);
    return Slot{email, address, now};
}

void SignInThrottle::succeeded(const Slot& slot) {
    std::lock_guard lock(mutex_);
    by_email_and_address_.erase(pair_key(slot.email, slot.address));
    by_address_.remove(slot.address, slot.at);
}

void SignInThrottle::release(const Slot& slot) {
    std::lock_guard lock(mutex_);
    by_email_and_address_.remove(pair_key(slot.email, slot.address), slot.at);
    by_address_.remove(slot.address, slot.at);
}

std::int64_t SignInThrottle::begin_sign_up(const std::string& address) {
    std::lock_guard lock(mutex_);
    auto now = clock_.now();
    if (auto wait = signups_.blocked_for(address, limits_.signups_per_address, now); wait > 0)
        return wait;
    signups_.add(address, now);
    return 0;
}

}  // namespace ticketd::auth
