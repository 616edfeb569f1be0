#include "util/clock.hpp"

namespace ticketd::util {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

ManualClock::ManualClock(TimePoint start)
    : ms_since_epoch_(duration_cast<milliseconds>(start.time_since_epoch()).count()),
      start_ms_(ms_since_epoch_) {}

TimePoint ManualClock::now() const { return TimePoint{milliseconds{ms_since_epoch_.load()}}; }

std::chrono::steady_clock::time_point ManualClock::monotonic() const {
    return std::chrono::steady_clock::time_point{milliseconds{ms_since_epoch_.load() - start_ms_}};
}

void ManualClock::set(TimePoint t) {
    ms_since_epoch_ = duration_cast<milliseconds>(t.time_since_epoch()).count();
    jumped();
}

void ManualClock::advance(milliseconds d) {
    ms_since_epoch_ += d.count();
    jumped();
}

void ManualClock::on_jump(std::function<void()> fn) const {
    std::lock_guard lock(mutex_);
    listeners_.push_back(std::move(fn));
}

void ManualClock::jumped() {
    std::vector<std::function<void()>> listeners;
    {
        std::lock_guard lock(mutex_);
        listeners = listeners_;
    }
    for (auto& fn : listeners) fn();
}

}  // namespace ticketd::util
