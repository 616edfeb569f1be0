#include "app/app.hpp"

#include <SQLiteCpp/Statement.h>

#include <boost/json/object.hpp>

#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "db/database.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace ticketd {

std::vector<ModuleFactory> builtin_modules() { return {}; }

struct App::Impl {
    Config config;
    util::SystemClock system_clock;
    const util::Clock* clock;
    std::unique_ptr<db::Database> log_db;
    std::unique_ptr<bus::LocalBus> bus;
    http::Router router;
    std::unique_ptr<http::Server> server;
    std::vector<std::unique_ptr<Module>> modules;
    std::once_flag stop_once;
    bool started = false;

    Impl(Config c, AppOptions options) : config(std::move(c)) {
        clock = options.clock ? options.clock : &system_clock;
        bool in_memory = config.data_dir == ":memory:";
        if (!in_memory) {
            std::error_code ec;
            std::filesystem::create_directories(config.data_dir, ec);
            if (ec)
                throw std::runtime_error("cannot create data directory " + config.data_dir + ": " +
                                         ec.message());
        }
        log_db = std::make_unique<db::Database>(
            "bus", in_memory ? std::string(":memory:") : db::database_path(config.data_dir, "bus"),
            config.durability == "full" ? db::Durability::full : db::Durability::normal);
        log_db->migrate({"bus"});
        bus = std::make_unique<bus::LocalBus>(*log_db, options.bus);

        http::ServerOptions so;
        so.host = config.host;
        so.port = config.port;
        so.threads = config.threads;
        so.max_connections = static_cast<std::size_t>(config.max_connections);
        so.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
        so.access_log = config.access_log;
        server = std::make_unique<http::Server>(router, so);

        ModuleContext ctx{config, *bus, *clock,
                          [this](std::function<void()> fn) { server->post(std::move(fn)); }};
        std::vector<ModuleFactory> factories;
        if (options.builtin_modules) factories = builtin_modules();
        for (auto& f : options.extra_modules) factories.push_back(std::move(f));
        for (auto& make : factories) modules.push_back(make(ctx));

        add_core_routes();
        for (auto& m : modules) m->add_routes(router);
        for (auto& m : modules) m->add_listeners(*bus);
    }

    void add_core_routes() {
        router.get("/healthz", [](const http::Request&) {
            return http::json(200, boost::json::object{{"status", "ok"}});
        });
        router.get("/readyz", [this](const http::Request&) {
            boost::json::object databases;
            bool ready = bus->running();
            auto check = [&](db::Database& db) {
                try {
                    db::ReadLock read(db);
                    read.statement("SELECT 1").executeStep();
                    databases[db.name()] = "open";
                } catch (const std::exception& e) {
                    ready = false;
                    databases[db.name()] = "error";
                    log::error("readiness check failed", {{"db", db.name()}, {"error", e.what()}});
                }
            };
            check(*log_db);
            for (auto& m : modules) check(m->database());
            ready = ready && bus->running();
            return http::json(ready ? 200 : 503, boost::json::object{
                                                     {"status", ready ? "ready" : "not ready"},
                                                     {"bus", bus->running() ? "running" : "stopped"},
                                                     {"databases", std::move(databases)}});
        });
    }
};

App::App(Config config, AppOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}

App::~App() { stop(); }

void App::start() {
    impl_->bus->start();
    for (auto& m : impl_->modules) m->start();
    impl_->server->start();
    impl_->started = true;
}

std::uint16_t App::port() const { return impl_->server->port(); }
void App::wait_for_signal() { impl_->server->wait_for_signal(); }

void App::stop() {
    auto& i = *impl_;
    std::call_once(i.stop_once, [&i] {
        if (!i.started) return;
        i.server->stop();
        if (!i.bus->wait_idle(std::chrono::seconds(5)))
            log::warn("bus still busy at shutdown; remaining events are delivered at next start");
        for (auto& m : i.modules) m->stop();
        i.bus->stop();
    });
}

const Config& App::config() const { return impl_->config; }
bus::Bus& App::bus() { return *impl_->bus; }
http::Router& App::router() { return impl_->router; }

db::Database& App::database(std::string_view name) {
    if (name == "bus") return *impl_->log_db;
    for (auto& m : impl_->modules)
        if (m->name() == name) return m->database();
    throw std::out_of_range("no database named " + std::string(name));
}

}  // namespace ticketd
