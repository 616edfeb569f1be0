#pragma once
#include <string>

#include "host/host_config.hpp"

namespace ticketd {

// The key that signs session tokens: JWT_KEY, or in development a key generated once into
// <data-dir>/jwt.key (mode 0600). Throws std::runtime_error in production without JWT_KEY.
std::string signing_key(const host::HostConfig& config);

}  // namespace ticketd
