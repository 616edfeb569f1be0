#pragma once
#include <atomic>
#include <chrono>

namespace ticketd::util {

using TimePoint = std::chrono::system_clock::time_point;

// Wall-clock time for business rules (order expiry). Tests substitute a ManualClock.
// Implementations are safe to call from any thread.
class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
public:
    TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
public:
    explicit ManualClock(TimePoint start);
    TimePoint now() const override;
    void set(TimePoint t);
    void advance(std::chrono::milliseconds d);

private:
    std::atomic<std::int64_t> ms_since_epoch_;
};

}  // namespace ticketd::util
