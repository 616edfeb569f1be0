#pragma once
// ticketd's command line: the core's commands (host/cli.hpp) plus `payments`.
#include <string>
#include <vector>

#include "config.hpp"
#include "host/cli.hpp"

namespace ticketd {

// ticketd as the host's CLI sees it: its settings, modules, contracts and own commands.
const host::Application& application();

// The whole program: parses the command line and runs the command. Returns the exit status:
// 0 success, 1 a runtime failure (logged), 2 a usage error (one line on stderr).
int run_cli(int argc, const char* const* argv, const std::vector<std::string>& env);

// The result of reading the command line: what to do, and with which settings.
struct Command {
    // serve | dead-letters | payments | backup | restore | events | help | version
    std::string name = "serve";
    std::vector<std::string> args;  // positional arguments after the command name
    Config config;
};

// Reads defaults, then environment variables, then flags (flags win). Throws UsageError.
Command parse_command_line(int argc, const char* const* argv, const std::vector<std::string>& env);

// The text of `ticketd --help`.
std::string help_text();

}  // namespace ticketd
