#pragma once
// The web UI, compiled into the binary from web/ by cmake/embed.cmake, served with content types,
// validators and caching headers, and the app shell for client-side routes.
#include <span>

#include "http/message.hpp"
#include "util/embedded_file.hpp"

namespace ticketd::web {

// Every file under web/.
std::span<const EmbeddedFile> embedded_files();

}  // namespace ticketd::web

namespace ticketd::http {

// Answers a GET for `req.path` from the embedded files: the file itself, or index.html for a
// client-side route (a path without a file extension). Paths under /api/ and missing assets
// are 404 in the error shape. Honours If-None-Match with 304.
Response serve_static(const Request& req);

}  // namespace ticketd::http
