#pragma once
// Lets a request wait briefly for a record that an event is about to bring into a module.
//
// The bus is asynchronous: a client that has just placed an order can pay for it before the
// payments module has heard of the order. Rather than answer 404 and make every client retry,
// the request waits, without holding a thread, until the module's listener has stored the record
// (arrived()) or the timeout passes, and is answered then.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "util/clock.hpp"
#include "util/timer.hpp"

namespace ticketd::util {

class ArrivalWaiters {
public:
    using Post = std::function<void(std::function<void()>)>;

    // `timer` expires waiters, by deadlines on `clock`'s monotonic time (a test moves a
    // ManualClock and fires the timer instead of sleeping); `post` runs a woken waiter's
    // callback on a request thread. Whatever that clock does, no wait outlasts twice `timeout`
    // of real time: the timer is never armed for longer than `timeout`, and a waiter is also
    // answered once that much real time has passed.
    ArrivalWaiters(std::unique_ptr<Timer> timer, Post post, const Clock& clock,
                   std::chrono::milliseconds timeout);

    // True if `present()` is: the caller goes on at once and `done` is dropped. Otherwise `done`
    // runs later, through `post`, with true once arrived(key) is called or with false after the
    // timeout. `present` runs under this object's lock, so an arrival between the check and the
    // wait cannot be missed; it may take a database lock as long as arrived() is never called
    // with that lock held (call it from WriteTx::on_commit).
    bool present_or_wait(const std::string& key, const std::function<bool()>& present,
                         std::function<void(bool)> done);
    // Wakes everyone waiting for `key`; cheap when nobody is.
    void arrived(const std::string& key);
    // Answers every waiter with false (at shutdown).
    void cancel_all();

private:
    struct Waiter {
        std::chrono::steady_clock::time_point deadline;       // on clock_.monotonic()
        std::chrono::steady_clock::time_point real_deadline;  // twice the timeout, real time
        std::function<void(bool)> done;
    };
    void arm_locked();
    void expire();

    std::unique_ptr<Timer> timer_;
    Post post_;
    const Clock& clock_;
    std::chrono::milliseconds timeout_;
    std::mutex mutex_;
    std::multimap<std::string, Waiter> waiters_;
};

}  // namespace ticketd::util
