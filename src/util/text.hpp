#pragma once
#include <cstddef>
#include <string_view>

namespace ticketd::util {

// The number of characters (Unicode code points) in UTF-8 text: what length limits count.
// Invalid UTF-8 counts its lead bytes.
inline std::size_t character_count(std::string_view utf8) {
    std::size_t n = 0;
    for (unsigned char c : utf8)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

}  // namespace ticketd::util
