#include "http/static_files.hpp"

#include <map>
#include <mutex>

#include <openssl/evp.h>

#include "http/api_error.hpp"
#include "http/router.hpp"
#include "util/ids.hpp"

namespace ticketd::http {
namespace {

std::string_view content_type(std::string_view path) {
    auto dot = path.rfind('.');
    std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "json") return "application/json; charset=utf-8";
    if (ext == "png") return "image/png";
    if (ext == "ico") return "image/x-icon";
    if (ext == "txt") return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

}  // namespace

StaticSite::StaticSite(std::span<const EmbeddedFile> files, std::string content_security_policy,
                       bool app_shell)
    : csp_(std::move(content_security_policy)), app_shell_(app_shell) {
    for (const auto& f : files) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_Digest(f.data.data(), f.data.size(), digest, &len, EVP_sha256(), nullptr);
        std::string hex = util::to_hex(std::string_view(reinterpret_cast<char*>(digest), len));
        assets_.emplace(f.path, Asset{f.path, f.data, "\"" + hex.substr(0, 20) + "\""});
    }
}

Response StaticSite::serve(const Request& req) const {
    std::string_view path = req.path;
    // An origin-form target starts with '/'; anything else ("*", an absolute URL, a bare query)
    // names no file.
    if (!path.starts_with("/") || path.starts_with("/api/") || path == "/api")
        throw ApiError::not_found();
    std::string_view rel = path.substr(1);
    const auto& table = assets_;
    auto it = table.find(rel.empty() ? std::string_view("index.html") : rel);
    bool shell = false;
    if (it == table.end()) {
        if (!app_shell_) throw ApiError::not_found();
        // A client-side route (no extension) gets the app shell; a missing asset is a 404.
        auto last = rel.substr(rel.rfind('/') == std::string_view::npos ? 0 : rel.rfind('/') + 1);
        if (last.find('.') != std::string_view::npos) throw ApiError::not_found();
        it = table.find("index.html");
        if (it == table.end()) throw ApiError::not_found();
        shell = true;
    }
    const Asset& asset = it->second;
    bool is_html = asset.path.ends_with(".html");
    Response r;
    r.set_header("ETag", asset.etag);
    // HTML must be revalidated so a new release is picked up; scripts and styles may be reused
    // for a few minutes, then revalidated cheaply with the ETag.
    r.set_header("Cache-Control", is_html ? "no-cache" : "public, max-age=300");
    r.set_header("X-Content-Type-Options", "nosniff");
    if (is_html) {
        r.set_header("Content-Security-Policy", csp_);
        r.set_header("Referrer-Policy", "same-origin");
    }
    if (auto inm = req.header("if-none-match"); inm && *inm == asset.etag) {
        r.status = 304;
        return r;
    }
    r.status = 200;
    r.set_header("Content-Type", std::string(content_type(asset.path)));
    r.body = std::string(asset.data);
    (void)shell;
    return r;
}

}  // namespace ticketd::http
