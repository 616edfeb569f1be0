#pragma once
// Sessions every module trusts: an HS256 JWT {id, email, iat, exp} inside the `session` cookie
// (base64 of {"jwt":"<token>"}), as the classic Node ticketing app sets it. Shared plumbing in
// the core, so no module depends on the auth module to know who is signed in.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace ticketd::util {
class Clock;
}

namespace ticketd::http {

class Sessions {
public:
    // `key` signs and verifies tokens; `secure_cookies` adds the Secure attribute (production).
    Sessions(std::string key, bool secure_cookies, std::chrono::seconds lifetime,
             const util::Clock& clock);

    // A signed token for this user, issued now and valid for `lifetime`.
    std::string issue(std::string_view user_id, std::string_view email) const;
    // The user in `token` if its signature is ours (constant-time compare), its header says
    // exactly alg HS256, and it has not expired; nullopt for anything else, never an exception.
    std::optional<User> verify(std::string_view token) const;
    // The user of the request's session cookie, if it holds a valid token.
    std::optional<User> from_request(const Request& req) const;

    // Set-Cookie values: the session for `token`, and one that clears it.
    std::string cookie_for(std::string_view token) const;
    std::string clearing_cookie() const;

private:
    std::string sign(std::string_view signing_input) const;
    std::string key_;
    bool secure_;
    std::chrono::seconds lifetime_;
    const util::Clock& clock_;
};

// The router step that refuses state-changing requests (POST, PUT, DELETE, PATCH) a browser marks
// as cross-site (Sec-Fetch-Site: cross-site, or an Origin whose host is not this server's): 403.
void refuse_cross_site(const Request& req);

}  // namespace ticketd::http
