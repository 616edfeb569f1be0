#pragma once
// The blog on 127.0.0.1 with an ephemeral port and a temporary data directory, for its HTTP
// tests: the same Host the binary runs, optionally with fewer modules or extra test modules.
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/json.hpp>

#include "blog/app.hpp"
#include "blog/config.hpp"
#include "host/host.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "util/log.hpp"

namespace blog::test {

using ticketd::test::TempDir;

inline Config test_config(const std::string& data_dir) {
    ticketd::log::configure(ticketd::log::Level::error, ticketd::log::Format::text);
    Config c;
    c.host = "127.0.0.1";
    c.port = 0;
    c.data_dir = data_dir;
    c.threads = 2;
    c.access_log = false;
    c.metrics_port = -1;
    return c;
}

class BlogServer {
public:
    // `tweak` may change the config; `options` the modules (tests add probes).
    explicit BlogServer(const std::string& data_dir, std::function<void(Config&)> tweak = {},
                        std::function<void(ticketd::host::HostOptions&)> options = {})
        : config_(test_config(data_dir)) {
        if (tweak) tweak(config_);
        auto o = host_options(config_);
        o.bus.retry.first_backoff = std::chrono::milliseconds(5);
        o.bus.retry.max_backoff = std::chrono::milliseconds(50);
        if (options) options(o);
        host_ = std::make_unique<ticketd::host::Host>(config_, std::move(o));
        host_->start();
    }
    ~BlogServer() { host_->stop(); }

    std::uint16_t port() const { return host_->port(); }
    ticketd::host::Host& host() { return *host_; }
    void wait_idle() {
        if (!host_->bus().wait_idle(std::chrono::seconds(20)))
            throw std::runtime_error("bus not idle");
    }

private:
    Config config_;
    std::unique_ptr<ticketd::host::Host> host_;
};

// Helpers over the course's three calls.
inline std::string create_post(ticketd::test::HttpClient& c, const std::string& title) {
    auto r = c.post("/posts/create", boost::json::serialize(boost::json::object{{"title", title}}));
    if (r.status != 201)
        throw std::runtime_error("create post: " + std::to_string(r.status) + " " + r.body);
    return std::string(boost::json::parse(r.body).at("id").as_string());
}

inline ticketd::test::HttpResponse comment(ticketd::test::HttpClient& c, const std::string& post_id,
                                           const std::string& content) {
    return c.post("/posts/" + post_id + "/comments",
                  boost::json::serialize(boost::json::object{{"content", content}}));
}

inline boost::json::object posts(ticketd::test::HttpClient& c) {
    auto r = c.get("/posts");
    if (r.status != 200) throw std::runtime_error("GET /posts: " + std::to_string(r.status));
    return boost::json::parse(r.body).as_object();
}

}  // namespace blog::test
