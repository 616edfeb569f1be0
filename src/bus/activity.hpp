#pragma once
// What LocalBus's relay and delivery threads share: one lock over their "is there work" state,
// so that LocalBus::wait_idle() sees both at one instant (an event a handler publishes is
// pending in the relay before the handler's worker counts as idle).
#include <condition_variable>
#include <functional>
#include <mutex>

namespace ticketd::bus {

struct Activity {
    std::mutex mutex;
    std::condition_variable idle;
    // Whether relay and delivery are both idle; set by LocalBus. Call with `mutex` held.
    std::function<bool()> idle_locked;
    // After a piece of work, with `mutex` held: wakes wait_idle() if nothing is left.
    void settled_locked() {
        if (idle_locked && idle_locked()) idle.notify_all();
    }
};

}  // namespace ticketd::bus
