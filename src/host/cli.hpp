#pragma once
// The command line every application on the core shares: `serve` (the default), `dead-letters`,
// `backup`, `restore`, `events catalog|graph|doc|tail`, --help and --version, plus the
// application's own commands. main() is one call: return host::run_cli(application(), ...).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/event_catalog.hpp"
#include "host/host.hpp"
#include "host/host_config.hpp"

namespace ticketd::host {

struct Application {
    std::string name;     // "ticketd": the program, in usage lines and messages
    std::string summary;  // the first line of --help
    std::string version;
    // A config of the application's own type, holding its defaults.
    std::function<std::unique_ptr<HostConfig>()> make_config;
    std::vector<Option> options;      // every flag: host_options(...) and the application's own
    std::vector<ModuleSpec> modules;  // its module registry, in build order
    std::vector<ContractInfo> contracts;
    std::string events_doc_intro;  // heading and paragraph of `events doc`
    // The application's own commands, with their --help lines: {"payments settle ID NOTE",
    // "what it does"}, the program's name left out.
    struct Command {
        std::string name;
        std::vector<std::pair<std::string, std::string>> help;
        std::function<int(const HostConfig&, const std::vector<std::string>&)> run;
    };
    std::vector<Command> commands;
    // Checks the settings before serving; throws UsageError (exit status 2).
    std::function<void(const HostConfig&)> check;
    // Builds the application on a config made by make_config (for `serve` and `events`).
    std::function<std::unique_ptr<Host>(const HostConfig&)> make_host;
};

// Reads the command line into `config` (see parse_options) and runs `check` for `serve`.
// Throws UsageError.
ParsedCommand parse_command_line(const Application& app, int argc, const char* const* argv,
                                 const std::vector<std::string>& env, HostConfig& config);

// The text of `<name> --help`.
std::string help_text(const Application& app);

// Runs the command; returns the exit status (2 for a usage error, 1 for a failure).
int run_cli(const Application& app, int argc, const char* const* argv,
            const std::vector<std::string>& env);

}  // namespace ticketd::host
