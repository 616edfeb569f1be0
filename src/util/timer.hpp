#pragma once
// A one-shot timer that modules can use without seeing Asio. The server's implementation runs
// callbacks on one of its threads.
#include <functional>
#include <memory>

#include "util/clock.hpp"

namespace ticketd::util {

class Timer {
public:
    virtual ~Timer() = default;
    // Calls `fire` once, `delay` from now (at once if delay <= 0), replacing any earlier arming.
    virtual void arm(std::chrono::milliseconds delay, std::function<void()> fire) = 0;
    virtual void cancel() = 0;
};

using TimerFactory = std::function<std::unique_ptr<Timer>()>;

}  // namespace ticketd::util
