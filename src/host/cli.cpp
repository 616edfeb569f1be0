#include "host/cli.hpp"

#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "bus/event_log.hpp"
#include "bus/nats_bus.hpp"
#include "db/database.hpp"
#include "host/backup.hpp"
#include "util/log.hpp"
#include "util/time_format.hpp"

namespace ticketd::host {
namespace {

int serve(const Application& app, const HostConfig& config) {
    log::info(app.name + " starting", {{"version", app.version},
                                       {"data_dir", config.data_dir},
                                       {"mode", config.production ? "production" : "development"}});
    auto host = app.make_host(config);
    host->start();
    log::info("listening", {{"url", "http://" + config.host + ":" + std::to_string(host->port())}});
    if (host->metrics_port())
        log::info("metrics", {{"url", "http://" + config.metrics_host + ":" +
                                          std::to_string(host->metrics_port()) + "/metrics"}});
    host->wait_for_signal();
    host->stop();
    log::info(app.name + " stopped");
    return 0;
}

// The event log of a data directory, for the tools below (the server may be running).
std::unique_ptr<db::Database> open_log(const HostConfig& config) {
    auto path = db::database_path(config.data_dir, "bus");
    if (!std::filesystem::exists(path)) throw std::runtime_error("no event log at " + path);
    auto log = std::make_unique<db::Database>("bus", path, db::Durability::full);
    log->migrate({"bus"});
    return log;
}

int dead_letters(const Application& app, const HostConfig& config,
                 const std::vector<std::string>& args) {
    auto log = open_log(config);
    if (!args.empty()) {
        std::int64_t id = 0;
        if (args.size() != 2 || args[0] != "retry" || !(std::istringstream(args[1]) >> id)) {
            std::cerr << app.name << ": usage: " << app.name << " dead-letters [retry ID]\n";
            return 2;
        }
        if (!bus::EventLog(*log).requeue(id)) {
            std::cerr << app.name << ": no parked event #" << id << "\n";
            return 1;
        }
        std::cout << "dead letter #" << id
                  << " re-queued; a running server delivers it within a second\n";
        return 0;
    }
    auto letters = bus::EventLog(*log).dead_letters();
    if (letters.empty()) {
        std::cout << "no dead letters\n";
        return 0;
    }
    for (const auto& d : letters) {
        std::cout << "#" << d.id << " "
                  << util::format_rfc3339_ms(util::from_unix_ms(d.parked_at_ms))
                  << " subscriber=" << d.subscriber << " seq=" << d.seq << " subject=" << d.subject
                  << " event=" << d.event_id << " attempts=" << d.attempts
                  << "\n    error: " << d.error << "\n    payload: " << d.payload << "\n";
    }
    return 0;
}

int events_command(const Application& app, const HostConfig& config,
                   const std::vector<std::string>& args) {
    std::string what = args.empty() ? "" : args[0];
    if (what == "catalog" || what == "graph" || what == "doc") {
        // Build the application in memory: the registrations are the source of truth.
        auto c = app.make_config();
        c->data_dir = ":memory:";
        c->modules = config.modules;
        c->metrics_port = -1;
        log::configure(log::Level::error, log::Format::text);
        auto host = app.make_host(*c);
        std::cout << (what == "catalog" ? event_catalog(host->bus(), app.contracts)
                      : what == "graph"
                          ? event_graph(host->bus(), app.contracts)
                          : events_doc(host->bus(), app.contracts, app.events_doc_intro));
        return 0;
    }
    if (what != "tail") {
        std::cerr << app.name << ": usage: " << app.name << " events catalog|graph|doc|tail\n";
        return 2;
    }
    auto print = [](const bus::RawEvent& e) {
        std::cout << e.seq << " " << util::format_rfc3339_ms(util::from_unix_ms(e.logged_at_ms))
                  << " " << e.subject << " from=" << e.source << " id=" << e.id << " " << e.payload
                  << "\n";
        std::cout.flush();
    };
    if (!config.bus_servers.empty()) {  // split mode: the log is the JetStream stream
        bus::NatsBus::tail(nats_options(app.name, config.bus_servers), config.tail_from,
                           config.tail_subject, config.tail_follow, print);
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

ParsedCommand parse_command_line(const Application& app, int argc, const char* const* argv,
                                 const std::vector<std::string>& env, HostConfig& config) {
    std::vector<std::string> commands = {"dead-letters", "backup", "restore", "events"};
    for (const auto& c : app.commands) commands.push_back(c.name);
    auto cmd = parse_options(app.options, commands, app.name, argc, argv, env, config);
    if (cmd.name == "serve" && app.check) app.check(config);
    return cmd;
}

std::string help_text(const Application& app) {
    std::ostringstream out;
    auto line = [&](const std::string& usage, const std::string& text) {
        std::string left = app.name + " " + usage;
        out << "  " << left << std::string(left.size() < 30 ? 31 - left.size() : 3, ' ') << text
            << "\n";
    };
    out << app.name << ": " << app.summary << "\n\nUsage:\n";
    line("[serve] [flags]", "run the server (the default)");
    line("dead-letters", "list events parked after too many failed tries");
    line("dead-letters retry ID", "deliver parked event ID to its subscriber again");
    for (const auto& c : app.commands)
        for (const auto& [usage, text] : c.help) line(usage, text);
    line("backup DIR", "consistent copy of every database while the server runs");
    line("restore DIR", "copy a backup into an empty data directory");
    line("events catalog", "every event contract: fields, publishers, subscribers");
    line("events graph", "the publish/subscribe graph as Mermaid");
    line("events doc", "the catalog and graph as a Markdown page");
    line("events tail [--subject S] [--from SEQ] [--follow]", "show the event log");
    out << "  " << app.name << " --help | --version\n\n"
        << "Flags win over environment variables, which win over defaults.\n\n"
        << options_help(app.options, *app.make_config());
    return out.str();
}

int run_cli(const Application& app, int argc, const char* const* argv,
            const std::vector<std::string>& env) {
    auto config = app.make_config();
    ParsedCommand cmd;
    try {
        cmd = parse_command_line(app, argc, argv, env, *config);
    } catch (const UsageError& e) {
        std::cerr << app.name << ": " << e.what() << "\n";
        return 2;
    }
    if (cmd.name == "help") {
        std::cout << help_text(app);
        return 0;
    }
    if (cmd.name == "version") {
        std::cout << app.name << " " << app.version << "\n";
        return 0;
    }
    log::Level level{};
    log::Format format{};
    log::parse_level(config->log_level, level);
    log::parse_format(config->log_format, format);
    log::configure(level, format);
    try {
        if (cmd.name == "dead-letters") return dead_letters(app, *config, cmd.args);
        if (cmd.name == "events") return events_command(app, *config, cmd.args);
        for (const auto& c : app.commands)
            if (c.name == cmd.name) return c.run(*config, cmd.args);
        if (cmd.name == "backup" || cmd.name == "restore") {
            if (cmd.args.size() != 1) {
                std::cerr << app.name << ": usage: " << app.name << " " << cmd.name
                          << " DIR [--data-dir DIR]\n";
                return 2;
            }
            auto names = database_names(app.modules);
            if (cmd.name == "backup")
                backup_data_dir(config->data_dir, cmd.args[0], names);
            else
                restore_data_dir(cmd.args[0], config->data_dir, names);
            return 0;
        }
        return serve(app, *config);
    } catch (const std::exception& e) {
        log::error("fatal", {{"error", e.what()}});
        return 1;
    }
}

}  // namespace ticketd::host
