#pragma once
#include <string>

namespace ticketd::util {

// A random 128-bit identifier as 32 lowercase hex characters, from the OS's CSPRNG (OpenSSL
// RAND_bytes). Used for record ids, event ids and request ids. Thread-safe.
std::string random_id();

// `n` random bytes from the OS's CSPRNG; throws std::runtime_error if none are available.
std::string random_bytes(std::size_t n);

std::string to_hex(std::string_view bytes);

}  // namespace ticketd::util
