#include "http/session.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http/api_error.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

namespace ticketd::http {
namespace {

std::int64_t seconds_since_epoch(const util::Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

std::optional<boost::json::object> decode_json_part(std::string_view part) {
    auto bytes = util::base64_decode(part);
    if (!bytes) return std::nullopt;
    boost::system::error_code ec;
    auto v = boost::json::parse(*bytes, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

}  // namespace

Sessions::Sessions(std::string key, bool secure_cookies, std::chrono::seconds lifetime,
                   const util::Clock& clock)
    : key_(std::move(key)), secure_(secure_cookies), lifetime_(lifetime), clock_(clock) {}

std::string Sessions::sign(std::string_view input) const {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string Sessions::issue(std::string_view user_id, std::string_view email) const {
    std::int64_t now = seconds_since_epoch(clock_);
    static const std::string header = util::base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    std::string payload = util::base64url_encode(boost::json::serialize(boost::json::object{
        {"id", user_id}, {"email", email}, {"iat", now}, {"exp", now + lifetime_.count()}}));
    std::string input = header + "." + payload;
    return input + "." + util::base64url_encode(sign(input));
}

std::optional<User> Sessions::verify(std::string_view token) const {
    auto first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
        return std::nullopt;
    auto header = decode_json_part(token.substr(0, first));
    if (!header) return std::nullopt;
    auto* alg = header->if_contains("alg");
    if (!alg || !alg->is_string() || alg->get_string() != "HS256") return std::nullopt;
    auto signature = util::base64_decode(token.substr(second + 1));
    std::string expected = sign(token.substr(0, second));
    if (!signature || signature->size() != expected.size() ||
        CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0)
        return std::nullopt;
    auto payload = decode_json_part(token.substr(first + 1, second - first - 1));
    if (!payload) return std::nullopt;
    auto* id = payload->if_contains("id");
    auto* email = payload->if_contains("email");
    auto* iat = payload->if_contains("iat");
    auto* exp = payload->if_contains("exp");
    if (!id || !id->is_string() || !email || !email->is_string() || !iat || !iat->is_int64() ||
        !exp || !exp->is_int64())
        return std::nullopt;
    if (seconds_since_epoch(clock_) >= exp->get_int64()) return std::nullopt;
    return User{std::string(id->get_string()), std::string(email->get_string()), iat->get_int64()};
}

std::optional<User> Sessions::from_request(const Request& req) const {
    auto cookie = req.cookie("session");
    if (!cookie || cookie->empty()) return std::nullopt;
    auto session = decode_json_part(*cookie);
    if (!session) return std::nullopt;
    auto* jwt = session->if_contains("jwt");
    if (!jwt || !jwt->is_string()) return std::nullopt;
    return verify(jwt->get_string());
}

std::string Sessions::cookie_for(std::string_view token) const {
    std::string value =
        util::base64_encode(boost::json::serialize(boost::json::object{{"jwt", token}}));
    return "session=" + value + "; Path=/; Max-Age=" + std::to_string(lifetime_.count()) +
           "; HttpOnly; SameSite=Lax" + (secure_ ? "; Secure" : "");
}

std::string Sessions::clearing_cookie() const {
    return std::string(
               "session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; "
               "SameSite=Lax") +
           (secure_ ? "; Secure" : "");
}

void refuse_cross_site(const Request& req) {
    if (req.method != "POST" && req.method != "PUT" && req.method != "DELETE" &&
        req.method != "PATCH")
        return;
    auto refuse = [] { throw ApiError(403, "Cross-site request refused"); };
    if (auto site = req.header("sec-fetch-site"); site && iequals(*site, "cross-site")) refuse();
    auto origin = req.header("origin");
    if (!origin) return;
    // Origin is scheme://host[:port]; compare its authority with the Host the client used.
    std::string_view o = *origin;
    auto scheme_end = o.find("://");
    if (scheme_end == std::string_view::npos) refuse();  // "null" and other opaque origins
    std::string_view authority = o.substr(scheme_end + 3);
    auto host = req.header("host");
    auto forwarded = req.header("x-forwarded-host");
    if ((host && iequals(*host, authority)) || (forwarded && iequals(*forwarded, authority)))
        return;
    refuse();
}

}  // namespace ticketd::http
