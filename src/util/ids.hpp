#pragma once
#include <string>

namespace ticketd::util {

// A random 128-bit identifier as 32 lowercase hex characters, from the OS's CSPRNG (OpenSSL
// RAND_bytes). Used for record ids, event ids and request ids. Thread-safe.
std::string random_id();

// Like random_id(), but the first 12 hex characters are the unix time in milliseconds, so ids
// made later sort later (80 random bits follow). Used for event ids: the outbox, the event log
// and every inbox index them, and ids that arrive in roughly ascending order are appended to the
// right edge of those B-trees instead of dirtying a random page per insert.
std::string time_ordered_id();

// `n` random bytes from the OS's CSPRNG; throws std::runtime_error if none are available.
std::string random_bytes(std::size_t n);

std::string to_hex(std::string_view bytes);

}  // namespace ticketd::util
