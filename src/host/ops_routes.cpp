#include "host/ops_routes.hpp"

#include <filesystem>

#include <SQLiteCpp/Statement.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bus/bus.hpp"
#include "bus/event_log.hpp"
#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

namespace ticketd {

std::string scrape_metrics(const OpsView& view) {
    std::string out;
    auto name = [&view](std::string_view metric) { return metrics::name_in(view.program, metric); };
    metrics::write_prometheus(out, view.program);
    auto subs = view.bus.subscribers();
    metrics::write_help(out, name("subscriber_lag_events"), "gauge",
                        "Events of a subscriber's subject logged but not yet processed.");
    bus::EventLog events(view.log);
    for (const auto& s : subs)
        metrics::write_sample(out, name("subscriber_lag_events"),
                              "subscriber=" + metrics::label_value(s.name),
                              static_cast<double>(s.lag));
    metrics::write_help(out, name("dead_letters"), "gauge", "Parked events not yet redelivered.");
    metrics::write_sample(out, name("dead_letters"), "",
                          static_cast<double>(events.dead_letter_count()));
    metrics::write_help(out, name("event_log_head"), "gauge",
                        "Sequence number of the newest logged event.");
    metrics::write_sample(out, name("event_log_head"), "", static_cast<double>(events.head()));
    metrics::write_help(out, name("outbox_pending"), "gauge",
                        "Outbox rows not yet moved to the event log, by module.");
    for (auto& m : view.modules)
        metrics::write_sample(out, name("outbox_pending"),
                              "module=" + metrics::label_value(m->name()),
                              static_cast<double>(bus::outbox::count(m->database())));
    metrics::write_help(out, name("database_size_bytes"), "gauge",
                        "Size of each database file and its WAL.");
    auto size_of = [](db::Database& db) {
        std::error_code ec;
        double total = 0;
        for (auto suffix : {"", "-wal"}) {
            auto n = std::filesystem::file_size(db.path() + suffix, ec);
            if (!ec) total += static_cast<double>(n);
        }
        return total;
    };
    if (view.config.data_dir != ":memory:") {
        metrics::write_sample(out, name("database_size_bytes"), "db=\"bus\"", size_of(view.log));
        for (auto& m : view.modules)
            metrics::write_sample(out, name("database_size_bytes"),
                                  "db=" + metrics::label_value(m->name()), size_of(m->database()));
    }
    metrics::write_help(
        out, name("database_cache_bytes"), "gauge",
        "Memory held by each database connection's SQLite page cache (at most 16 MB each).");
    metrics::write_sample(out, name("database_cache_bytes"), "db=\"bus\"",
                          static_cast<double>(view.log.cache_bytes()));
    for (auto& m : view.modules)
        metrics::write_sample(out, name("database_cache_bytes"),
                              "db=" + metrics::label_value(m->name()),
                              static_cast<double>(m->database().cache_bytes()));
    metrics::write_process(out, view.program);
    for (auto& m : view.modules) m->write_metrics(out);
    return out;
}

void add_ops_routes(http::Router& router, const OpsView& view) {
    router.get("/healthz", [](const http::Request&) {
        return http::json(200, boost::json::object{{"status", "ok"}});
    });
    // Public, so it says only whether the server is ready; what is not is in the log.
    router.get("/readyz", [view](const http::Request&) {
        bool ready = view.bus.running();
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
        check(view.log);
        for (auto& m : view.modules) check(m->database());
        if (ready) return http::json(200, boost::json::object{{"status", "ready"}});
        // Also in the API's error shape, like every other answer of 400 and above.
        return http::json(503,
                          boost::json::object{
                              {"status", "not ready"},
                              {"errors", boost::json::array{boost::json::object{
                                             {"message", "Not ready; the server log says why"}}}}});
    });
}

}  // namespace ticketd
