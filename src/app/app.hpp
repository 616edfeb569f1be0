#pragma once
// The composition root: opens the event log, builds the modules, wires their routes and
// listeners, and runs the HTTP server and the bus. main() and the HTTP tests both use it.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "app/module.hpp"
#include "bus/local_bus.hpp"
#include "config.hpp"

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

    // Starts the bus, the modules and the HTTP server.
    void start();
    std::uint16_t port() const;
    // Where /metrics is served (--metrics-listen); 0 when it is off.
    std::uint16_t metrics_port() const;
    void wait_for_signal();
    // Graceful: stop accepting and finish in-flight requests, let the bus settle, stop modules
    // and the bus, close databases. Idempotent.
    void stop();

    const Config& config() const;
    bus::Bus& bus();
    http::Router& router();
    // The database of a module (or "bus" for the event log); std::out_of_range if unknown.
    db::Database& database(std::string_view name);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The factories for the five business modules.
std::vector<ModuleFactory> builtin_modules();

}  // namespace ticketd
