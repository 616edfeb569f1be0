#include "host/host.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "bus/nats_bus.hpp"
#include "db/database.hpp"
#include "host/data_dir_lock.hpp"
#include "host/ops_routes.hpp"
#include "host/signing_key.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/session.hpp"
#include "http/static_files.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "util/worker_pool.hpp"

namespace ticketd::host {

bus::NatsBusOptions nats_options(const std::string& program,
                                 const std::vector<std::string>& servers) {
    bus::NatsBusOptions o{.servers = servers};
    o.stream.clear();
    for (char c : program)
        o.stream += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    o.subject_prefix = program;
    return o;
}

std::vector<std::string> database_names(const std::vector<ModuleSpec>& modules) {
    std::vector<std::string> names = {"bus"};
    for (const auto& m : modules) names.push_back(m.name);
    return names;
}

struct Host::Impl {
    const HostConfig& config;
    util::SystemClock system_clock;
    const util::Clock* clock;
    std::unique_ptr<DataDirLock> data_dir_lock;
    std::unique_ptr<db::Database> log_db;
    std::unique_ptr<bus::Bus> bus;
    http::Router router;
    std::unique_ptr<http::Server> server;
    http::Router metrics_router;
    std::unique_ptr<http::Server> metrics_server;  // null with --metrics-listen off
    std::unique_ptr<http::Sessions> sessions;
    std::unique_ptr<util::WorkerPool> workers;
    std::optional<http::StaticSite> site;
    std::vector<std::unique_ptr<Module>> modules;
    std::once_flag stop_once;
    bool started = false;
    std::string program;  // HostOptions::program: names the data directory's lock and the metrics

    OpsView ops_view() {
        return {
            .config = config, .bus = *bus, .log = *log_db, .modules = modules, .program = program};
    }

    Impl(const HostConfig& c, HostOptions options) : config(c), program(options.program) {
        bool named = !program.empty() && program[0] >= 'a' && program[0] <= 'z' &&
                     std::all_of(program.begin(), program.end(), [](char ch) {
                         return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
                     });
        if (!named)
            throw std::invalid_argument(
                "HostOptions::program must be lower-case letters, digits "
                "and '_', starting with a letter: \"" +
                program + "\"");
        clock = options.clock ? options.clock : &system_clock;
        bool in_memory = config.data_dir == ":memory:";
        if (!in_memory) {
            std::error_code ec;
            std::filesystem::create_directories(config.data_dir, ec);
            if (ec)
                throw std::runtime_error("cannot create data directory " + config.data_dir + ": " +
                                         ec.message());
            data_dir_lock = std::make_unique<DataDirLock>(config.data_dir, options.program);
        }
        // The event log is in `normal` mode whatever the durability mode: the relay syncs it
        // before it deletes outbox rows, and a power cut that takes its last appends only makes
        // the relay append them again (see bus::Delivery::subscribe).
        log_db = std::make_unique<db::Database>(
            "bus", in_memory ? std::string(":memory:") : db::database_path(config.data_dir, "bus"));
        log_db->migrate({"bus"});
        if (config.bus_servers.empty()) {
            bus = std::make_unique<bus::LocalBus>(*log_db, options.bus);
        } else {
            // Split mode: bus.db keeps only this process's dead letters and subscriber names.
            auto nats = nats_options(options.program, config.bus_servers);
            nats.retry = options.bus.retry;
            bus = std::make_unique<bus::NatsBus>(*log_db, nats);
        }

        http::ServerOptions so;
        so.host = config.host;
        so.port = config.port;
        so.threads = config.threads;
        so.max_connections = static_cast<std::size_t>(config.max_connections);
        so.max_connections_per_address =
            static_cast<std::size_t>(config.max_connections_per_address);
        so.trusted_proxies = http::AddressSet::parse(config.trusted_proxies);
        so.body_memory = static_cast<std::size_t>(config.body_memory_mb) * 1024 * 1024;
        so.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
        so.access_log = config.access_log;
        server = std::make_unique<http::Server>(router, so);
        if (config.metrics_port >= 0) {
            // Its own listener (loopback by default): what a scrape shows, and the work it costs,
            // is for the operator, not for whoever can reach the public port.
            http::ServerOptions mo;
            mo.host = config.metrics_host;
            mo.port = static_cast<std::uint16_t>(config.metrics_port);
            mo.threads = 1;
            mo.max_connections = 64;
            mo.access_log = false;
            metrics_router.get("/metrics", [this](const http::Request&) {
                return http::text_response(200, scrape_metrics(ops_view()),
                                           "text/plain; version=0.0.4; charset=utf-8");
            });
            metrics_server = std::make_unique<http::Server>(metrics_router, mo);
        }

        sessions = std::make_unique<http::Sessions>(
            options.sessions ? signing_key(config) : util::random_id() + util::random_id(),
            config.production, std::chrono::hours(24) * config.session_days, *clock);
        workers = std::make_unique<util::WorkerPool>(
            static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
        router.before(http::refuse_cross_site);
        if (options.sessions)
            router.before(
                [this](http::Request& req) { req.current_user = sessions->from_request(req); });

        ModuleContext ctx{.config = config,
                          .bus = *bus,
                          .clock = *clock,
                          .sessions = *sessions,
                          .workers = *workers,
                          .post = [this](std::function<void()> fn) { server->post(std::move(fn)); },
                          .make_timer = [this] { return server->make_timer(); },
                          .schema = options.schema};
        for (auto& spec : options.modules)
            if (config.runs(spec.name)) modules.push_back(spec.make(ctx));
        for (auto& make : options.extra_modules) modules.push_back(make(ctx));

        add_ops_routes(router, ops_view());
        if (options.add_routes) options.add_routes(router);
        if (!options.web.empty()) {
            site.emplace(options.web, options.content_security_policy, options.app_shell);
            router.set_fallback([this](const http::Request& req) { return site->serve(req); });
        }
        for (auto& m : modules) m->add_routes(router);
        for (auto& m : modules) m->add_listeners(*bus);
    }
};

Host::Host(const HostConfig& config, HostOptions options)
    : impl_(std::make_unique<Impl>(config, std::move(options))) {}

Host::~Host() { stop(); }

void Host::start() {
    impl_->server->listen();  // a taken port fails here, before any work starts
    if (impl_->metrics_server) impl_->metrics_server->listen();
    impl_->started = true;  // from here on, stop() undoes whatever did start
    impl_->bus->start();
    for (auto& m : impl_->modules) m->start();
    impl_->server->start();
    if (impl_->metrics_server) impl_->metrics_server->start();
}

std::uint16_t Host::port() const { return impl_->server->port(); }
std::uint16_t Host::metrics_port() const {
    return impl_->metrics_server ? impl_->metrics_server->port() : 0;
}
void Host::wait_for_signal() { impl_->server->wait_for_signal(); }

void Host::stop() {
    auto& i = *impl_;
    std::call_once(i.stop_once, [&i] {
        if (!i.started) return;
        if (i.metrics_server) i.metrics_server->stop();
        i.server->stop();
        i.workers.reset();  // finishes queued jobs (their replies go nowhere now)
        if (!i.bus->wait_idle(std::chrono::seconds(5)))
            log::warn("bus still busy at shutdown; remaining events are delivered at next start");
        for (auto& m : i.modules) m->stop();
        i.bus->stop();
    });
}

bus::Bus& Host::bus() { return *impl_->bus; }
http::Router& Host::router() { return impl_->router; }

db::Database& Host::database(std::string_view name) {
    if (name == "bus") return *impl_->log_db;
    for (auto& m : impl_->modules)
        if (m->name() == name) return m->database();
    throw std::out_of_range("no database named " + std::string(name));
}

}  // namespace ticketd::host
