#pragma once
// Password hashing with scrypt (OpenSSL), stored self-describing so parameters can be raised
// later without breaking existing accounts: "scrypt$N$r$p$<salt base64>$<hash base64>".
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_auth)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <string>
#include <string_view>

namespace ticketd::auth {

struct ScryptParams {
    unsigned long n = 16384;
    unsigned long r = 8;
    unsigned long p = 1;
    std::size_t key_length = 64;
    std::size_t salt_length = 16;
};

// Hashes `password` with a fresh random salt from the OS. Takes tens of milliseconds: call it
// on a worker thread. Throws std::runtime_error if OpenSSL fails.
std::string hash_password(std::string_view password, const ScryptParams& params = {});

// True when `password` matches `stored` (compared in constant time). A malformed `stored` is
// simply false.
bool verify_password(std::string_view password, std::string_view stored);

// A hash of a random password with the default parameters, for verifying sign-ins of unknown
// emails at the same cost as known ones (no user enumeration by timing).
const std::string& decoy_hash();

}  // namespace ticketd::auth
