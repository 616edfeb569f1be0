#pragma once
// Who the client is when a reverse proxy stands in front: --trusted-proxies lists the peers whose
// X-Forwarded-For is believed. Plain values, no Boost.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::http {

// A set of IPv4 and IPv6 ranges ("10.0.0.0/8,::1", a bare address is a /32 or /128).
class AddressSet {
public:
    // Throws std::invalid_argument naming the entry that is not an address or range.
    static AddressSet parse(std::string_view comma_separated);
    bool contains(std::string_view address) const;
    bool empty() const { return ranges_.empty(); }

private:
    struct Range {
        bool v6 = false;
        std::array<std::uint8_t, 16> bytes{};
        int prefix = 0;
    };
    std::vector<Range> ranges_;
};

// The client's address. From a trusted peer, the right-most address in X-Forwarded-For that is
// not itself a trusted proxy (the left ones are whatever the client chose to send); otherwise,
// and when the header holds nothing usable, the peer itself.
std::string client_address(std::string_view peer, std::optional<std::string_view> forwarded_for,
                           const AddressSet& trusted);

}  // namespace ticketd::http
