#include "http/client_address.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

namespace ticketd::http {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// IPv4 as ::ffff:a.b.c.d, so that a v4-mapped peer matches a v4 range.
std::optional<std::array<std::uint8_t, 16>> to_bytes(std::string_view text,
                                                     bool* was_v4 = nullptr) {
    std::string s(trim(text));
    if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
    std::array<std::uint8_t, 16> out{};
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        if (was_v4) *was_v4 = true;
        return out;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        if (was_v4) *was_v4 = false;
        return out;
    }
    return std::nullopt;
}

}  // namespace

AddressSet AddressSet::parse(std::string_view list) {
    AddressSet set;
    while (!list.empty()) {
        auto comma = list.find(',');
        auto entry = trim(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (entry.empty()) continue;
        auto slash = entry.find('/');
        bool v4 = false;
        auto bytes = to_bytes(entry.substr(0, slash), &v4);
        int max = v4 ? 32 : 128, prefix = max;
        if (slash != std::string_view::npos) {
            auto digits = entry.substr(slash + 1);
            prefix = -1;
            if (!digits.empty() && digits.size() <= 3 &&
                digits.find_first_not_of("0123456789") == std::string_view::npos)
                prefix = std::stoi(std::string(digits));
        }
        if (!bytes || prefix < 0 || prefix > max)
            throw std::invalid_argument("not an address or CIDR range: '" + std::string(entry) +
                                        "'");
        set.ranges_.push_back({!v4, *bytes, v4 ? prefix + 96 : prefix});
    }
    return set;
}

bool AddressSet::contains(std::string_view address) const {
    if (ranges_.empty()) return false;
    auto bytes = to_bytes(address);
    if (!bytes) return false;
    for (const auto& r : ranges_) {
        int bits = r.prefix;
        bool match = true;
        for (int i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
            std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
            match = ((*bytes)[i] & mask) == (r.bytes[i] & mask);
        }
        if (match) return true;
    }
    return false;
}

std::string client_address(std::string_view peer, std::optional<std::string_view> forwarded_for,
                           const AddressSet& trusted) {
    if (!forwarded_for || !trusted.contains(peer)) return std::string(peer);
    std::string_view rest = *forwarded_for;
    while (!rest.empty()) {
        auto comma = rest.rfind(',');
        auto hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
        if (!to_bytes(hop)) return std::string(peer);  // garbage: believe nothing further left
        if (!trusted.contains(hop)) return std::string(trim(hop));
    }
    return std::string(peer);
}

}  // namespace ticketd::http
