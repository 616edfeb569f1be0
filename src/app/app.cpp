#include "app/app.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <boost/json/object.hpp>

#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "bus/event_log.hpp"
#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "modules/auth/auth_module.hpp"
#include "modules/expiration/expiration_module.hpp"
#include "modules/orders/orders_module.hpp"
#include "modules/payments/payments_module.hpp"
#include "modules/tickets/tickets_module.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/session.hpp"
#include "http/static_files.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/worker_pool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace ticketd {

std::vector<ModuleFactory> builtin_modules() {
    return {auth::make_module, tickets::make_module, orders::make_module, expiration::make_module,
            [](const ModuleContext& ctx) { return payments::make_module(ctx); }};
}

namespace {

// JWT_KEY, or in development a key generated once into <data-dir>/jwt.key (mode 0600).
std::string signing_key(const Config& config) {
    if (!config.jwt_key.empty()) {
        if (config.production && config.jwt_key.size() < 32)
            log::warn("JWT_KEY is shorter than 32 characters; use a long random key");
        return config.jwt_key;
    }
    if (config.production)
        throw std::runtime_error("JWT_KEY must be set in production mode");
    if (config.data_dir == ":memory:") return util::random_id() + util::random_id();
    auto path = (std::filesystem::path(config.data_dir) / "jwt.key").string();
    if (std::ifstream in{path}) {
        std::string key;
        std::getline(in, key);
        if (!key.empty()) return key;
    }
    std::string key = util::random_id() + util::random_id();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + path);
    std::string line = key + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::fsync(fd);
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path);
    log::warn("JWT_KEY not set: generated a development signing key; set JWT_KEY in production",
              {{"file", path}});
    return key;
}

// An exclusive lock on <data-dir>/ticketd.lock for as long as the server runs: a second server
// on the same data directory would run a second relay, delivery and expiry timers over the same
// databases. The kernel drops the lock when the process dies, so a crash leaves nothing stale.
class DataDirLock {
public:
    explicit DataDirLock(const std::string& data_dir) {
        auto path = (std::filesystem::path(data_dir) / "ticketd.lock").string();
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) throw std::runtime_error("cannot open " + path);
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            throw std::runtime_error("another ticketd is already using the data directory " + data_dir);
        }
    }
    ~DataDirLock() { ::close(fd_); }
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace

struct App::Impl {
    Config config;
    util::SystemClock system_clock;
    const util::Clock* clock;
    std::unique_ptr<DataDirLock> data_dir_lock;
    std::unique_ptr<db::Database> log_db;
    std::unique_ptr<bus::LocalBus> bus;
    http::Router router;
    std::unique_ptr<http::Server> server;
    http::Router metrics_router;
    std::unique_ptr<http::Server> metrics_server;  // null with --metrics-listen off
    std::unique_ptr<http::Sessions> sessions;
    std::unique_ptr<util::WorkerPool> workers;
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
            data_dir_lock = std::make_unique<DataDirLock>(config.data_dir);
        }
        // The event log is in `normal` mode whatever the durability mode: the relay syncs it
        // before it deletes outbox rows, and a power cut that takes its last appends only makes
        // the relay append them again (see LocalBus::seq_floor_).
        log_db = std::make_unique<db::Database>(
            "bus", in_memory ? std::string(":memory:") : db::database_path(config.data_dir, "bus"));
        log_db->migrate({"bus"});
        bus = std::make_unique<bus::LocalBus>(*log_db, options.bus);

        http::ServerOptions so;
        so.host = config.host;
        so.port = config.port;
        so.threads = config.threads;
        so.max_connections = static_cast<std::size_t>(config.max_connections);
        so.max_connections_per_address = static_cast<std::size_t>(config.max_connections_per_address);
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
                return http::text_response(200, scrape(), "text/plain; version=0.0.4; charset=utf-8");
            });
            metrics_server = std::make_unique<http::Server>(metrics_router, mo);
        }

        sessions = std::make_unique<http::Sessions>(
            signing_key(config), config.production,
            std::chrono::hours(24) * config.session_days, *clock);
        workers = std::make_unique<util::WorkerPool>(
            static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
        router.before(http::refuse_cross_site);
        router.before([this](http::Request& req) { req.current_user = sessions->from_request(req); });

        ModuleContext ctx{config, *bus, *clock, *sessions, *workers,
                          [this](std::function<void()> fn) { server->post(std::move(fn)); },
                          [this] { return server->make_timer(); }};
        std::vector<ModuleFactory> factories;
        if (options.builtin_modules) factories = builtin_modules();
        for (auto& f : options.extra_modules) factories.push_back(std::move(f));
        for (auto& make : factories) modules.push_back(make(ctx));

        add_core_routes();
        router.set_fallback(http::serve_static);
        for (auto& m : modules) m->add_routes(router);
        for (auto& m : modules) m->add_listeners(*bus);
    }

    // Prometheus text: counters kept in memory plus gauges read from the databases now.
    std::string scrape() {
        std::string out;
        metrics::write_prometheus(out);
        auto subs = bus->subscribers();
        metrics::write_help(out, "ticketd_subscriber_lag_events", "gauge",
                            "Events of a subscriber's subject logged but not yet processed.");
        bus::EventLog events(*log_db);
        for (const auto& s : subs)
            metrics::write_sample(out, "ticketd_subscriber_lag_events", "subscriber=" + metrics::label_value(s.name),
                                  static_cast<double>(events.count_after(s.subject, s.position)));
        metrics::write_help(out, "ticketd_dead_letters", "gauge", "Parked events not yet redelivered.");
        metrics::write_sample(out, "ticketd_dead_letters", "", static_cast<double>(events.dead_letter_count()));
        metrics::write_help(out, "ticketd_event_log_head", "gauge", "Sequence number of the newest logged event.");
        metrics::write_sample(out, "ticketd_event_log_head", "", static_cast<double>(events.head()));
        metrics::write_help(out, "ticketd_outbox_pending", "gauge", "Outbox rows not yet moved to the event log, by module.");
        for (auto& m : modules)
            metrics::write_sample(out, "ticketd_outbox_pending", "module=" + metrics::label_value(m->name()),
                                  static_cast<double>(bus::outbox::count(m->database())));
        metrics::write_help(out, "ticketd_database_size_bytes", "gauge", "Size of each database file and its WAL.");
        auto size_of = [](db::Database& db) {
            std::error_code ec;
            double total = 0;
            for (auto suffix : {"", "-wal"}) {
                auto n = std::filesystem::file_size(db.path() + suffix, ec);
                if (!ec) total += static_cast<double>(n);
            }
            return total;
        };
        if (config.data_dir != ":memory:") {
            metrics::write_sample(out, "ticketd_database_size_bytes", "db=\"bus\"", size_of(*log_db));
            for (auto& m : modules)
                metrics::write_sample(out, "ticketd_database_size_bytes", "db=" + metrics::label_value(m->name()),
                                      size_of(m->database()));
        }
        metrics::write_help(out, "ticketd_database_cache_bytes", "gauge",
                            "Memory held by each database connection's SQLite page cache (at most 16 MB each).");
        metrics::write_sample(out, "ticketd_database_cache_bytes", "db=\"bus\"", static_cast<double>(log_db->cache_bytes()));
        for (auto& m : modules)
            metrics::write_sample(out, "ticketd_database_cache_bytes", "db=" + metrics::label_value(m->name()),
                                  static_cast<double>(m->database().cache_bytes()));
        metrics::write_process(out);
        for (auto& m : modules) m->write_metrics(out);
        return out;
    }

    void add_core_routes() {
        router.get("/healthz", [](const http::Request&) {
            return http::json(200, boost::json::object{{"status", "ok"}});
        });
        // What the web UI needs to know about this server.
        router.get("/api/config", [this](const http::Request&) {
            boost::json::object o{{"payments", config.payments},
                                  {"reservationWindowSeconds", config.reservation_window_seconds}};
            if (!config.stripe_publishable_key.empty())
                o["stripePublishableKey"] = config.stripe_publishable_key;
            return http::json(200, o);
        });
        // Public, so it says only whether the server is ready; what is not is in the log.
        router.get("/readyz", [this](const http::Request&) {
            bool ready = bus->running();
            if (!ready) log::warn("readiness check: the bus is not running");
            auto check = [&](db::Database& db) {
                try {
                    db::ReadLock read(db);
                    read.statement("SELECT 1").executeStep();
                } catch (const std::exception& e) {
                    ready = false;
                    log::error("readiness check failed", {{"db", db.name()}, {"error", e.what()}});
                }
            };
            check(*log_db);
            for (auto& m : modules) check(m->database());
            return http::json(ready ? 200 : 503,
                              boost::json::object{{"status", ready ? "ready" : "not ready"}});
        });
    }
};

App::App(Config config, AppOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}

App::~App() { stop(); }

void App::start() {
    impl_->server->listen();  // a taken port fails here, before any work starts
    if (impl_->metrics_server) impl_->metrics_server->listen();
    impl_->started = true;    // from here on, stop() undoes whatever did start
    impl_->bus->start();
    for (auto& m : impl_->modules) m->start();
    impl_->server->start();
    if (impl_->metrics_server) impl_->metrics_server->start();
}

std::uint16_t App::port() const { return impl_->server->port(); }
std::uint16_t App::metrics_port() const { return impl_->metrics_server ? impl_->metrics_server->port() : 0; }
void App::wait_for_signal() { impl_->server->wait_for_signal(); }

void App::stop() {
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
