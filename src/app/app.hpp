#pragma once
// ticketd's composition root: a host::Host with the five business modules, ticketd's schema,
// web UI and settings. main() (through the CLI) and the HTTP tests both use it.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "bus/local_bus.hpp"
#include "config.hpp"
#include "host/host.hpp"
#include "host/module.hpp"

namespace ticketd::http {
class Router;
}

namespace ticketd {

struct AppOptions {
    bool builtin_modules = true;               // auth, tickets, orders, expiration, payments
    std::vector<ModuleFactory> extra_modules;  // test-only modules
    const util::Clock* clock = nullptr;        // default: the system clock
    bus::LocalBusOptions bus;
};

class App {
public:
    // Opens the data directory (creating it), every database, and applies migrations. Throws
    // std::runtime_error with a readable message when something is wrong with the data directory.
    explicit App(Config config, AppOptions options = {});
    ~App();
    App(const App&) = delete;  // the host holds references into it
    App& operator=(const App&) = delete;

    // Starts the bus, the modules and the HTTP server.
    void start() { host_->start(); }
    std::uint16_t port() const { return host_->port(); }
    // Where /metrics is served (--metrics-listen); 0 when it is off.
    std::uint16_t metrics_port() const { return host_->metrics_port(); }
    void wait_for_signal() { host_->wait_for_signal(); }
    // Graceful: stop accepting and finish in-flight requests, let the bus settle, stop modules
    // and the bus, close databases. Idempotent.
    void stop() { host_->stop(); }

    const Config& config() const { return config_; }
    bus::Bus& bus() { return host_->bus(); }
    http::Router& router() { return host_->router(); }
    // The database of a module (or "bus" for the event log); std::out_of_range if unknown.
    db::Database& database(std::string_view name) { return host_->database(name); }

private:
    Config config_;  // before host_: the host and the modules keep references to it
    std::unique_ptr<host::Host> host_;
};

// ticketd's module registry: the five business modules, by name, in build order.
std::vector<ModuleSpec> builtin_modules();

// What the host needs of ticketd besides its modules: schema, web UI, /api/config.
host::HostOptions host_options(const Config& config, AppOptions options);

}  // namespace ticketd
