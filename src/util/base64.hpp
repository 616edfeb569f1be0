#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace ticketd::util {

// Standard base64 with padding (RFC 4648 §4).
std::string base64_encode(std::string_view bytes);
// base64url without padding (RFC 4648 §5), as JWTs use it.
std::string base64url_encode(std::string_view bytes);
// Decodes either alphabet, padding optional; nullopt for any other character or a bad length.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ticketd::util
