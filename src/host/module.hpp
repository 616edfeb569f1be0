#pragma once
// What a module is to the composition root: a name, its own database, its routes and its event
// listeners. Modules are built from a ModuleContext and never see each other.
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>

#include "host/host_config.hpp"
#include "util/embedded_file.hpp"

namespace ticketd::util {
class Clock;
class Timer;
class WorkerPool;
}  // namespace ticketd::util
namespace ticketd::bus {
class Bus;
}
namespace ticketd::http {
class Router;
class Sessions;
}  // namespace ticketd::http
namespace ticketd::db {
class Database;
}

namespace ticketd {

// Services the composition root lends a module. All outlive the module.
struct ModuleContext {
    // The core's settings (data directory, durability, ...).
    const host::HostConfig& config;
    bus::Bus& bus;
    const util::Clock& clock;
    // Issues and verifies session tokens (the router already sets Request::current_user).
    const http::Sessions& sessions;
    // Threads for CPU-heavy work, so it never blocks an HTTP thread.
    util::WorkerPool& workers;
    // Runs fn on one of the server's threads (never inline): a way back from worker threads.
    std::function<void(std::function<void()>)> post;
    // One-shot timers whose callbacks run on the server's threads.
    std::function<std::unique_ptr<util::Timer>()> make_timer;
    // The application's embedded schema/ files, where open_database finds schema/<name>.
    std::span<const EmbeddedFile> schema = {};
    // Opens <data-dir>/<name>.db (or an in-memory database when the data dir is ":memory:"),
    // applies schema/<name> and the outbox schema, and attaches its outbox to the bus.
    std::unique_ptr<db::Database> open_database(std::string_view name) const;

    // The application's own settings, of the config type it derives from HostConfig (ticketd's
    // Config). Throws std::logic_error when the host runs with another type: a module of one
    // application hosted by another.
    template <class C>
    const C& settings() const {
        if (auto* c = dynamic_cast<const C*>(&config)) return *c;
        throw std::logic_error(std::string("this module needs settings of type ") +
                               typeid(C).name());
    }
};

class Module {
public:
    virtual ~Module() = default;
    virtual std::string_view name() const = 0;
    virtual db::Database& database() = 0;
    virtual void add_routes(http::Router& router) = 0;
    virtual void add_listeners(bus::Bus& bus) = 0;
    // After the bus and the server have started (re-arm timers, ...).
    virtual void start() {}
    // Before the bus stops: cancel timers, stop background work.
    virtual void stop() {}
    // Module-specific gauges for /metrics, appended in Prometheus text format.
    virtual void write_metrics(std::string& out) { (void)out; }
};

using ModuleFactory = std::function<std::unique_ptr<Module>(const ModuleContext&)>;

// An entry of an application's module registry: what --modules calls it, and how to build it.
struct ModuleSpec {
    std::string name;
    ModuleFactory make;
};

}  // namespace ticketd
