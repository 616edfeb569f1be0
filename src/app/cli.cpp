#include "app/cli.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "app/app.hpp"
#include "app/backup.hpp"
#include "app/event_catalog.hpp"
#include "bus/event_log.hpp"
#include "bus/local_bus.hpp"
#include "bus/nats_bus.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "modules/payments/payments_module.hpp"
#include "util/log.hpp"
#include "util/time_format.hpp"

#ifndef TICKETD_VERSION
#define TICKETD_VERSION "dev"
#endif

namespace ticketd {
namespace {

int serve(const Config& config) {
    log::info("ticketd starting", {{"version", TICKETD_VERSION},
                                   {"data_dir", config.data_dir},
                                   {"mode", config.production ? "production" : "development"}});
    App app(config);
    app.start();
    log::info("listening", {{"url", "http://" + config.host + ":" + std::to_string(app.port())}});
    if (app.metrics_port())
        log::info("metrics",
                  {{"url", "http://" + config.metrics_host + ":" + std::to_string(app.metrics_port()) + "/metrics"}});
    app.wait_for_signal();
    app.stop();
    log::info("ticketd stopped");
    return 0;
}

// The event log of a data directory, for the tools below (the server may be running).
std::unique_ptr<db::Database> open_log(const Config& config) {
    auto path = db::database_path(config.data_dir, "bus");
    if (!std::filesystem::exists(path)) throw std::runtime_error("no event log at " + path);
    auto log = std::make_unique<db::Database>("bus", path, db::Durability::full);
    log->migrate({"bus"});
    return log;
}

int dead_letters(const Config& config, const std::vector<std::string>& args) {
    auto log = open_log(config);
    if (!args.empty()) {
        std::int64_t id = 0;
        if (args.size() != 2 || args[0] != "retry" || !(std::istringstream(args[1]) >> id)) {
            std::cerr << "ticketd: usage: ticketd dead-letters [retry ID]\n";
            return 2;
        }
        if (!bus::EventLog(*log).requeue(id)) {
            std::cerr << "ticketd: no parked event #" << id << "\n";
            return 1;
        }
        std::cout << "dead letter #" << id << " re-queued; a running server delivers it within a second\n";
        return 0;
    }
    auto letters = bus::EventLog(*log).dead_letters();
    if (letters.empty()) {
        std::cout << "no dead letters\n";
        return 0;
    }
    for (const auto& d : letters) {
        std::cout << "#" << d.id << " " << util::format_rfc3339_ms(util::from_unix_ms(d.parked_at_ms))
                  << " subscriber=" << d.subscriber << " seq=" << d.seq << " subject=" << d.subject
                  << " event=" << d.event_id << " attempts=" << d.attempts << "\n    error: " << d.error
                  << "\n    payload: " << d.payload << "\n";
    }
    return 0;
}

int payments_tool(const Config& config, const std::vector<std::string>& args) {
    auto path = db::database_path(config.data_dir, "payments");
    if (!std::filesystem::exists(path)) throw std::runtime_error("no payments database at " + path);
    db::Database db("payments", path, db::Durability::full);
    db.migrate({"payments", "outbox"});
    return payments::payments_command(db, args, std::cout, std::cerr);
}

int events_command(const Config& config, const std::vector<std::string>& args) {
    std::string what = args.empty() ? "" : args[0];
    if (what == "catalog" || what == "graph" || what == "doc") {
        // Build the application in memory: the registrations are the source of truth.
        Config c = config;
        c.data_dir = ":memory:";
        log::configure(log::Level::error, log::Format::text);
        App app(c);
        std::cout << (what == "catalog" ? event_catalog(app.bus())
                      : what == "graph" ? event_graph(app.bus())
                                        : events_doc(app.bus()));
        return 0;
    }
    if (what != "tail") {
        std::cerr << "ticketd: usage: ticketd events catalog|graph|doc|tail\n";
        return 2;
    }
    auto print = [](const bus::RawEvent& e) {
        std::cout << e.seq << " " << util::format_rfc3339_ms(util::from_unix_ms(e.logged_at_ms)) << " " << e.subject
                  << " from=" << e.source << " id=" << e.id << " " << e.payload << "\n";
        std::cout.flush();
    };
    if (!config.bus_servers.empty()) {  // split mode: the log is the JetStream stream
        bus::NatsBus::tail({.servers = config.bus_servers}, config.tail_from, config.tail_subject, config.tail_follow,
                           print);
        return 0;
    }
    auto log = open_log(config);
    bus::EventLog events(*log);
    std::int64_t after = config.tail_from;
    for (;;) {
        for (const auto& e : events.read_all(after, config.tail_subject, 1000)) {
            after = e.seq;
            print(e);
        }
        if (!config.tail_follow) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

}  // namespace

int run_cli(int argc, const char* const* argv, const std::vector<std::string>& env) {
    Command cmd;
    try {
        cmd = parse_command_line(argc, argv, env);
    } catch (const UsageError& e) {
        std::cerr << "ticketd: " << e.what() << "\n";
        return 2;
    }
    if (cmd.name == "help") {
        std::cout << help_text();
        return 0;
    }
    if (cmd.name == "version") {
        std::cout << "ticketd " << TICKETD_VERSION << "\n";
        return 0;
    }
    log::Level level{};
    log::Format format{};
    log::parse_level(cmd.config.log_level, level);
    log::parse_format(cmd.config.log_format, format);
    log::configure(level, format);
    try {
        if (cmd.name == "dead-letters") return dead_letters(cmd.config, cmd.args);
        if (cmd.name == "events") return events_command(cmd.config, cmd.args);
        if (cmd.name == "payments") return payments_tool(cmd.config, cmd.args);
        if (cmd.name == "backup" || cmd.name == "restore") {
            if (cmd.args.size() != 1) {
                std::cerr << "ticketd: usage: ticketd " << cmd.name << " DIR [--data-dir DIR]\n";
                return 2;
            }
            if (cmd.name == "backup")
                backup_data_dir(cmd.config.data_dir, cmd.args[0]);
            else
                restore_data_dir(cmd.args[0], cmd.config.data_dir);
            return 0;
        }
        return serve(cmd.config);
    } catch (const std::exception& e) {
        log::error("fatal", {{"error", e.what()}});
        return 1;
    }
}

}  // namespace ticketd
