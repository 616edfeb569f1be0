#pragma once
// Slows down password guessing without handing attackers a way to lock people out. Failed
// sign-ins are counted per (email, client address) and per client address in a sliding window;
// past either limit, sign-ins for that email from that address, or from that address at all,
// are refused (429) until old failures age out. A correct password from an address with no
// recent failures for that email therefore always signs in, whatever others try elsewhere. Each
// sign-in takes its failure slot before the password is checked, so parallel guesses cannot
// all pass the check before the first failure is counted; a success gives the slot back. Sign-ups
// are counted per client address too. In memory: a restart forgets, which is acceptable for
// throttling. Thread-safe.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_auth)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "util/clock.hpp"

namespace ticketd::auth {

struct ThrottleLimits {
    int per_email_and_address = 10;
    int per_address = 50;  // higher: many people can share one address (NAT, offices)
    int signups_per_address = 30;
    std::chrono::seconds window{15 * 60};
    std::size_t max_keys = 100000;  // per counter: the keys idle longest are forgotten first
};

// Events per key in a sliding window, with a bound on the number of keys (they come from
// clients). Not thread-safe on its own.
class WindowCounter {
public:
    WindowCounter(std::chrono::seconds window, std::size_t max_keys)
        : window_(window), max_keys_(max_keys) {}
    // Seconds until the key is below `limit` again; 0 when it is now.
    std::int64_t blocked_for(const std::string& key, int limit, util::TimePoint now);
    void add(const std::string& key, util::TimePoint at);
    void remove(const std::string& key, util::TimePoint at);  // one event at `at`
    void erase(const std::string& key) { times_.erase(key); }

private:
    std::chrono::seconds window_;
    std::size_t max_keys_;
    std::unordered_map<std::string, std::deque<util::TimePoint>> times_;
};

class SignInThrottle {
public:
    SignInThrottle(const util::Clock& clock, ThrottleLimits limits = {});

    // A sign-in about to check a password, holding its failure slot.
    struct Slot {
        std::string email, address;
        util::TimePoint at;
    };
    // The slot, or nullopt with `retry_after` set to the seconds until a try is allowed.
    std::optional<Slot> begin_sign_in(const std::string& email, const std::string& address,
                                      std::int64_t& retry_after);
    // The password was right: the slot is given back and the email's count from that address
    // cleared. (A wrong one keeps the slot: nothing to call.)
    void succeeded(const Slot& slot);
    // The password was not checked after all (the server was too busy): the slot is given back
    // and nothing else changes.
    void release(const Slot& slot);
    // Counts a sign-up from `address`: 0, or the seconds to wait when over the limit.
    std::int64_t begin_sign_up(const std::string& address);

private:
    const util::Clock& clock_;
    ThrottleLimits limits_;
    std::mutex mutex_;
    WindowCounter by_email_and_address_, by_address_, signups_;
};

}  // namespace ticketd::auth
