#include "app/cli.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/app.hpp"
#include "bus/local_bus.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "util/log.hpp"
#include "util/time_format.hpp"

#ifndef TICKETD_VERSION
#define TICKETD_VERSION "dev"
#endif

namespace ticketd {
namespace {

int serve(const Config& config) {
    log::info("ticketd starting", {{"version", TICKETD_VERSION}, {"data_dir", config.data_dir},
                                   {"mode", config.production ? "production" : "development"}});
    App app(config);
    app.start();
    log::info("listening", {{"url", "http://" + config.host + ":" + std::to_string(app.port())}});
    app.wait_for_signal();
    app.stop();
    log::info("ticketd stopped");
    return 0;
}

int dead_letters(const Config& config) {
    auto path = db::database_path(config.data_dir, "bus");
    if (!std::filesystem::exists(path)) {
        std::cerr << "ticketd: no event log at " << path << "\n";
        return 1;
    }
    db::Database log("bus", path);
    log.migrate({"bus"});
    auto letters = bus::list_dead_letters(log);
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
        if (cmd.name == "dead-letters") return dead_letters(cmd.config);
        return serve(cmd.config);
    } catch (const std::exception& e) {
        log::error("fatal", {{"error", e.what()}});
        return 1;
    }
}

}  // namespace ticketd
