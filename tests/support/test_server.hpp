#pragma once
// The whole application on 127.0.0.1 with an ephemeral port and a temporary data directory.
#include <functional>
#include <memory>
#include <string>

#include "app/app.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace ticketd::test {

// Config for tests: 127.0.0.1, port 0, two threads, no access log, quiet logs, a fixed key.
Config test_config(const std::string& data_dir);
// Bus options for tests: short backoffs so retries and dead letters happen in milliseconds.
bus::LocalBusOptions test_bus_options();

class TestServer {
public:
    // Starts the app on a fresh temporary data directory. `tweak` may change the config;
    // `options` chooses modules, clock and bus settings.
    explicit TestServer(std::function<void(Config&)> tweak = {},
                        AppOptions options = default_options());
    // Starts the app on an existing data directory (restart tests).
    TestServer(const std::string& data_dir, std::function<void(Config&)> tweak,
               AppOptions options = default_options());
    ~TestServer();

    std::uint16_t port() const { return app_->port(); }
    App& app() { return *app_; }
    const std::string& data_dir() const { return data_dir_; }
    // Waits for the bus to deliver everything; fails the test if it does not within 20 s.
    void wait_idle();
    // Stops the app (graceful shutdown) without removing the data directory.
    void stop();

    static AppOptions default_options();

private:
    std::unique_ptr<TempDir> temp_;
    std::string data_dir_;
    std::unique_ptr<App> app_;
};

}  // namespace ticketd::test
