#pragma once
// The rules for what a user types in: emails and passwords.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_auth)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <optional>
#include <string>
#include <string_view>

namespace ticketd::auth {

// The email trimmed and lower-cased, or nullopt if it is not a plausible address
// (local@domain.tld, ASCII, at most 254 characters).
std::optional<std::string> normalize_email(std::string_view raw);

}  // namespace ticketd::auth
