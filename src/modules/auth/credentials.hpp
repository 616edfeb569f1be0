#pragma once
// The rules for what a user types in: emails and passwords.
#include <optional>
#include <string>
#include <string_view>

namespace ticketd::auth {

// The email trimmed and lower-cased, or nullopt if it is not a plausible address
// (local@domain.tld, ASCII, at most 254 characters).
std::optional<std::string> normalize_email(std::string_view raw);

}  // namespace ticketd::auth
