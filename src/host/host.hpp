#pragma once
// The composition root every application on the core shares: it opens the data directory and
// the event log, builds the modules an application registers (those --modules selects), wires
// their routes and listeners, and runs the HTTP server, the metrics listener and the bus.
// ticketd (src/app/app.*) and the blog example (examples/blog/) are each a Host with their own
// modules, settings, schema and web files.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bus/local_bus.hpp"
#include "bus/nats_bus.hpp"
#include "host/host_config.hpp"
#include "host/module.hpp"
#include "util/embedded_file.hpp"

namespace ticketd::http {
class Router;
}

namespace ticketd::host {

struct HostOptions {
    // Names the data directory's lock file, the core's metrics (<program>_http_requests_total,
    // ...), and in split mode the JetStream stream (upper case) and its subject prefix, so that
    // two applications can share a NATS cluster. Lower-case letters, digits and '_', starting
    // with a letter (a valid name in all three places); anything else is refused.
    std::string program = "ticketd";
    // The application's modules; HostConfig::modules picks among them by name (empty: all).
    std::vector<ModuleSpec> modules;
    std::vector<ModuleFactory> extra_modules;  // always built (tests add probes this way)
    std::span<const EmbeddedFile> schema;      // the application's schema/ (its modules' sets)
    std::span<const EmbeddedFile> web;         // served for GETs no route takes; empty: 404
    bool app_shell = true;  // a GET of an unknown path without an extension gets web's index.html
    // The application signs users in: sessions signed with JWT_KEY (generated and kept in the data
    // directory in development; required in production) set Request::current_user. An
    // application without sign-in (the blog) needs no key: its sessions are never issued, and
    // their key is a throwaway one. Such an application also builds its flag table with
    // host_options(prefix, names, /*sessions=*/false), so that --help offers no JWT_KEY.
    bool sessions = true;
    std::string content_security_policy =
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    // The application's own routes beside its modules' (ticketd: /api/config).
    std::function<void(http::Router&)> add_routes;
    const util::Clock* clock = nullptr;  // default: the system clock
    bus::LocalBusOptions bus;
};

class Host {
public:
    // Opens the data directory (creating it), every database, and applies migrations. Throws
    // std::runtime_error with a readable message when something is wrong with the data directory.
    // `config` (the application's own type, derived from HostConfig) outlives the host.
    Host(const HostConfig& config, HostOptions options);
    ~Host();

    // Starts the bus, the modules and the HTTP server.
    void start();
    std::uint16_t port() const;
    // Where /metrics is served (--metrics-listen); 0 when it is off.
    std::uint16_t metrics_port() const;
    void wait_for_signal();
    // Graceful: stop accepting and finish in-flight requests, let the bus settle, stop modules
    // and the bus, close databases. Idempotent.
    void stop();

    bus::Bus& bus();
    http::Router& router();
    // The database of a module (or "bus" for the event log); std::out_of_range if unknown.
    db::Database& database(std::string_view name);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The NATS transport's options for `program` on `servers`: its own stream and subjects.
bus::NatsBusOptions nats_options(const std::string& program,
                                 const std::vector<std::string>& servers);

// The databases of an application's data directory: "bus", then each registered module's.
std::vector<std::string> database_names(const std::vector<ModuleSpec>& modules);

}  // namespace ticketd::host
