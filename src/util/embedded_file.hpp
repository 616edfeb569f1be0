#pragma once
#include <string_view>

namespace ticketd {

// A file compiled into the binary by cmake/embed.cmake: its path relative to the embedded
// folder and its bytes.
struct EmbeddedFile {
    std::string_view path;
    std::string_view data;
};

}  // namespace ticketd
