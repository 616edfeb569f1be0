#include "support/test_server.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "util/log.hpp"

namespace ticketd::test {

Config test_config(const std::string& data_dir) {
    Config c;
    c.host = "127.0.0.1";
    c.port = 0;
    c.threads = 2;
    c.data_dir = data_dir;
    c.access_log = false;
    c.jwt_key = "test-signing-key-0123456789abcdef";
    c.metrics_port = 0;  // a free port of its own
    log::configure(std::getenv("TICKETD_TEST_LOG") ? log::Level::debug : log::Level::error,
                   log::Format::text);
    return c;
}

bus::LocalBusOptions test_bus_options() {
    bus::LocalBusOptions o;
    o.retry.max_attempts = 5;
    o.retry.first_backoff = std::chrono::milliseconds(1);
    o.retry.max_backoff = std::chrono::milliseconds(20);
    return o;
}

AppOptions TestServer::default_options() {
    AppOptions o;
    o.bus = test_bus_options();
    return o;
}

TestServer::TestServer(std::function<void(Config&)> tweak, AppOptions options)
    : temp_(std::make_unique<TempDir>()), data_dir_(temp_->path()) {
    Config c = test_config(data_dir_);
    if (tweak) tweak(c);
    app_ = std::make_unique<App>(c, std::move(options));
    app_->start();
}

TestServer::TestServer(const std::string& data_dir, std::function<void(Config&)> tweak,
                       AppOptions options)
    : data_dir_(data_dir) {
    Config c = test_config(data_dir_);
    if (tweak) tweak(c);
    app_ = std::make_unique<App>(c, std::move(options));
    app_->start();
}

TestServer::~TestServer() { stop(); }

void TestServer::wait_idle() { REQUIRE(app_->bus().wait_idle(std::chrono::seconds(20))); }

void TestServer::stop() {
    if (app_) app_->stop();
    app_.reset();
}

}  // namespace ticketd::test
