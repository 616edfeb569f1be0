#pragma once
// ticketd's files compiled into its binary by cmake/embed.cmake: its modules' schema sets (every
// set under schema/ but the core's bus and outbox) and its web UI (web/).
#include <span>

#include "util/embedded_file.hpp"

namespace ticketd {

std::span<const EmbeddedFile> schema_files();

namespace web {
std::span<const EmbeddedFile> embedded_files();
}

}  // namespace ticketd
