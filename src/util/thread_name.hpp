#pragma once
// Names the calling thread (at most 15 characters are kept), so `top -H`, perf and gdb show
// which part of ticketd a thread belongs to.
#include <pthread.h>

#include <string>

namespace ticketd::util {

inline void name_this_thread(const std::string& name) {
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace ticketd::util
