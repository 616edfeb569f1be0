#include "util/arrival_waiters.hpp"

#include <algorithm>
#include <vector>

namespace ticketd::util {

ArrivalWaiters::ArrivalWaiters(std::unique_ptr<Timer> timer, Post post, const Clock& clock,
                               std::chrono::milliseconds timeout)
    : timer_(std::move(timer)), post_(std::move(post)), clock_(clock), timeout_(timeout) {}

bool ArrivalWaiters::present_or_wait(const std::string& key, const std::function<bool()>& present,
                                     std::function<void(bool)> done) {
    std::lock_guard lock(mutex_);
    if (present()) return true;
    bool first = waiters_.empty();
    waiters_.emplace(key, Waiter{.deadline = clock_.monotonic() + timeout_,
                                 .real_deadline = std::chrono::steady_clock::now() + 2 * timeout_,
                                 .done = std::move(done)});
    if (first) arm_locked();
    return false;
}

void ArrivalWaiters::arrived(const std::string& key) {
    std::vector<std::function<void(bool)>> woken;
    {
        std::lock_guard lock(mutex_);
        auto [from, to] = waiters_.equal_range(key);
        for (auto it = from; it != to; ++it) woken.push_back(std::move(it->second.done));
        waiters_.erase(from, to);
    }
    for (auto& done : woken) post_([done = std::move(done)] { done(true); });
}

void ArrivalWaiters::cancel_all() {
    std::multimap<std::string, Waiter> all;
    {
        std::lock_guard lock(mutex_);
        all.swap(waiters_);
        timer_->cancel();
    }
    for (auto& [key, w] : all) w.done(false);
}

// Arms the timer for the earliest deadline.
void ArrivalWaiters::arm_locked() {
    auto earliest = std::min_element(waiters_.begin(), waiters_.end(), [](auto& a, auto& b) {
                        return a.second.deadline < b.second.deadline;
                    })->second.deadline;
    auto delay = std::chrono::ceil<std::chrono::milliseconds>(earliest - clock_.monotonic());
    timer_->arm(std::min(delay, timeout_), [this] { expire(); });
}

void ArrivalWaiters::expire() {
    std::vector<std::function<void(bool)>> expired;
    {
        std::lock_guard lock(mutex_);
        auto now = clock_.monotonic();
        auto real_now = std::chrono::steady_clock::now();
        for (auto it = waiters_.begin(); it != waiters_.end();) {
            if (it->second.deadline <= now || it->second.real_deadline <= real_now) {
                expired.push_back(std::move(it->second.done));
                it = waiters_.erase(it);
                continue;
            }
            // Further away than a whole timeout: a test set the clock back. Start the wait over.
            if (it->second.deadline - now > timeout_) it->second.deadline = now + timeout_;
            ++it;
        }
        if (!waiters_.empty()) arm_locked();
    }
    for (auto& done : expired) done(false);
}

}  // namespace ticketd::util
