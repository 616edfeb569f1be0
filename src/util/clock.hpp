#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

namespace ticketd::util {

using TimePoint = std::chrono::system_clock::time_point;

// Wall-clock time for business rules (order expiry). Tests substitute a ManualClock.
// Implementations are safe to call from any thread.
class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    // For measuring waits: never set back by the system (SystemClock: steady_clock). A
    // ManualClock's moves with it.
    virtual std::chrono::steady_clock::time_point monotonic() const = 0;
    // Calls `fn` whenever the clock jumps (a test moved it); real clocks never call it.
    virtual void on_jump(std::function<void()> fn) const { (void)fn; }
};

class SystemClock final : public Clock {
public:
    TimePoint now() const override { return std::chrono::system_clock::now(); }
    std::chrono::steady_clock::time_point monotonic() const override {
        return std::chrono::steady_clock::now();
    }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
public:
    explicit ManualClock(TimePoint start);
    TimePoint now() const override;
    std::chrono::steady_clock::time_point monotonic() const override;
    void set(TimePoint t);
    void advance(std::chrono::milliseconds d);
    void on_jump(std::function<void()> fn) const override;

private:
    void jumped();
    std::atomic<std::int64_t> ms_since_epoch_;
    std::int64_t start_ms_;
    mutable std::mutex mutex_;
    mutable std::vector<std::function<void()>> listeners_;
};

}  // namespace ticketd::util
