#pragma once
// Names the calling thread (at most 15 characters are kept), so `top -H`, perf and gdb show
// which part of ticketd a thread belongs to, and tells the scheduler what kind of work it does.
#include <pthread.h>
#include <sched.h>

#include <string>

namespace ticketd::util {

enum class ThreadKind {
    serving,     // answers requests, waits on the network, or must keep up (checkpoints)
    background,  // the bus's relay and delivery, password hashing: waits for a turn when it wakes
};

// Background threads run under SCHED_BATCH, which needs no privilege: they get their full share
// of the CPU, but waking one does not preempt a running thread. On a small machine that keeps
// the HTTP threads from being interrupted each time an event or a hash is due (purchase flows:
// about a fifth more per second on two cores, see docs/performance.md). Best effort: if the
// call fails the thread runs as a normal one.
inline void name_this_thread(const std::string& name, ThreadKind kind = ThreadKind::serving) {
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
    if (kind == ThreadKind::background) {
        sched_param param{};
        param.sched_priority = 0;
        ::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &param);
    }
}

}  // namespace ticketd::util
