#include "password.hpp"

#include <charconv>
#include <stdexcept>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/base64.hpp"
#include "util/ids.hpp"

namespace ticketd::auth {
namespace {

std::string scrypt(std::string_view password, std::string_view salt, unsigned long n,
                   unsigned long r, unsigned long p, std::size_t key_length) {
    std::string key(key_length, '\0');
    std::uint64_t maxmem = 128ull * n * r * (p + 1) + (1u << 20);
    if (EVP_PBE_scrypt(password.data(), password.size(),
                       reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n, r, p,
                       maxmem, reinterpret_cast<unsigned char*>(key.data()), key.size()) != 1)
        throw std::runtime_error("scrypt failed");
    return key;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (true) {
        auto pos = s.find(sep);
        out.push_back(s.substr(0, pos));
        if (pos == std::string_view::npos) return out;
        s.remove_prefix(pos + 1);
    }
}

bool parse_ulong(std::string_view s, unsigned long& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && ptr == s.data() + s.size();
}

}  // namespace

std::string hash_password(std::string_view password, const ScryptParams& params) {
    std::string salt = util::random_bytes(params.salt_length);
    std::string key = scrypt(password, salt, params.n, params.r, params.p, params.key_length);
    return "scrypt$" + std::to_string(params.n) + "$" + std::to_string(params.r) + "$" +
           std::to_string(params.p) + "$" + util::base64_encode(salt) + "$" +
           util::base64_encode(key);
}

bool verify_password(std::string_view password, std::string_view stored) {
    auto parts = split(stored, '$');
    if (parts.size() != 6 || parts[0] != "scrypt") return false;
    unsigned long n, r, p;
    if (!parse_ulong(parts[1], n) || !parse_ulong(parts[2], r) || !parse_ulong(parts[3], p))
        return false;
    if (n < 2 || n > (1ul << 22) || r == 0 || r > 64 || p == 0 || p > 16) return false;
    auto salt = util::base64_decode(parts[4]);
    auto expected = util::base64_decode(parts[5]);
    if (!salt || !expected || expected->empty() || expected->size() > 256) return false;
    std::string actual;
    try {
        actual = scrypt(password, *salt, n, r, p, expected->size());
    } catch (const std::exception&) {
        return false;
    }
    return CRYPTO_memcmp(actual.data(), expected->data(), actual.size()) == 0;
}

const std::string& decoy_hash() {
    static const std::string hash = hash_password(util::random_id());
    return hash;
}

}  // namespace ticketd::auth
