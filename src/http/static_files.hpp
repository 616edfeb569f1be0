#pragma once
// A web UI compiled into the binary (cmake/embed.cmake), served with content types, validators
// and caching headers, and the app shell for client-side routes.
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "util/embedded_file.hpp"

namespace ticketd::http {

class StaticSite {
public:
    // `files` outlive the site. `content_security_policy` is sent with every HTML page. With
    // `app_shell`, a path without a file extension (a client-side route) gets index.html.
    StaticSite(std::span<const EmbeddedFile> files, std::string content_security_policy,
               bool app_shell);

    // Answers a GET for `req.path`: the file itself ("/" is index.html), or the app shell.
    // Paths under /api/, missing assets and (without the shell) unknown paths are 404 in the
    // error shape. Honours If-None-Match with 304.
    Response serve(const Request& req) const;

private:
    struct Asset {
        std::string_view path;
        std::string_view data;
        std::string etag;
    };
    std::map<std::string_view, Asset, std::less<>> assets_;
    std::string csp_;
    bool app_shell_;
};

}  // namespace ticketd::http
