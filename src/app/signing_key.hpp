#pragma once
#include <string>

#include "config.hpp"

namespace ticketd {

// The key that signs session tokens: JWT_KEY, or in development a key generated once into
// <data-dir>/jwt.key (mode 0600). Throws std::runtime_error in production without JWT_KEY.
std::string signing_key(const Config& config);

}  // namespace ticketd
