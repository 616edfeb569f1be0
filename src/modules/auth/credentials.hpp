#pragma once
// The rules for what a user types in: emails and passwords.
#include <optional>
#include <string>
#include <string_view>

namespace ticketd::auth {

// The email trimmed and lower-cased, or nullopt if it is not a plausible address
// (local@domain.tld, ASCII, at most 254 characters).
std::optional<std::string> normalize_email(std::string_view raw);

// The number of characters (Unicode code points) in UTF-8 text; invalid UTF-8 counts bytes.
std::size_t character_count(std::string_view utf8);

}  // namespace ticketd::auth
