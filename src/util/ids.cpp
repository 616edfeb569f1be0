#include "util/ids.hpp"

#include <chrono>
#include <stdexcept>

#include <openssl/rand.h>

namespace ticketd::util {

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("no random bytes available");
    return out;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string random_id() { return to_hex(random_bytes(16)); }

std::string time_ordered_id() {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    std::string bytes = random_bytes(16);
    for (int i = 5; i >= 0; --i, ms >>= 8)
        bytes[static_cast<std::size_t>(i)] = static_cast<char>(ms & 0xff);
    return to_hex(bytes);
}

}  // namespace ticketd::util
