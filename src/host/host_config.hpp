#pragma once
// The settings every application on the core has (the listener, the data directory, the bus,
// logging, limits, sessions), the table of flags and environment variables that sets them, and
// the parser an application's command line goes through. An application derives its own config
// from HostConfig and adds its own options to the table (ticketd: src/config.*).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/durability.hpp"

namespace ticketd::host {

struct HostConfig {
    HostConfig() = default;
    HostConfig(const HostConfig&) = default;
    HostConfig& operator=(const HostConfig&) = default;
    virtual ~HostConfig() = default;

    std::string host = "0.0.0.0";
    std::uint16_t port = 3000;
    std::string data_dir = "./data";
    int threads = 0;  // 0: one per hardware thread
    bool production = false;
    std::string jwt_key;  // empty: generated in development mode
    int session_days = 14;
    db::Durability durability = db::Durability::normal;
    std::string log_format = "text";  // text | json
    std::string log_level = "info";   // debug | info | warn | error
    bool access_log = true;
    int max_connections = 10000;
    int max_connections_per_address = 256;  // 0: no cap
    std::string trusted_proxies;            // CIDR list whose X-Forwarded-For is believed
    int body_memory_mb = 64;                // request bodies being received, all together
    // Prometheus metrics on a listener of their own, never the public port; "off": none.
    std::string metrics_host = "127.0.0.1";
    int metrics_port = 9464;  // -1: off
    int read_timeout_ms = 30000;
    // The modules this process runs (empty: all of them) and the bus between them: "local"
    // (bus.db, in this process) or NATS JetStream servers, "nats://host:port[,nats://...]".
    std::vector<std::string> modules;
    std::string bus = "local";
    std::vector<std::string> bus_servers;  // from --bus nats://...
    bool runs(const std::string& module) const {
        return modules.empty() ||
               std::find(modules.begin(), modules.end(), module) != modules.end();
    }
    // `events tail` only.
    std::string tail_subject;
    std::int64_t tail_from = 0;
    bool tail_follow = false;
};

// One flag and/or environment variable. `set` throws std::invalid_argument with what was
// expected; the parser turns that into a UsageError naming the flag.
struct Option {
    std::string flag;   // "--port"; empty: environment only
    std::string env;    // "PORT"; empty: no variable
    std::string value;  // placeholder in --help, empty for a switch
    std::string help;
    std::function<std::string(const HostConfig&)> show_default;
    std::function<void(HostConfig&, const std::string&)> set;
};

// An option of an application's own config type C (derived from HostConfig).
template <class C>
Option app_option(std::string flag, std::string env, std::string value, std::string help,
                  std::function<std::string(const C&)> show_default,
                  std::function<void(C&, const std::string&)> set) {
    return {std::move(flag),
            std::move(env),
            std::move(value),
            std::move(help),
            [show_default](const HostConfig& c) { return show_default(static_cast<const C&>(c)); },
            [set](HostConfig& c, const std::string& v) { set(static_cast<C&>(c), v); }};
}

// Thrown for a bad flag or value; the message is one line naming the flag. Exit status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Value parsers for option tables; each throws std::invalid_argument saying what it expected.
int parse_int(const std::string& text, long min, long max);
bool parse_bool(const std::string& text);
std::string one_of(const std::string& text, const std::vector<std::string>& allowed);

// The options every application has. `env_prefix` names its variables ("TICKETD_" gives
// TICKETD_DATA_DIR; PORT and JWT_KEY have no prefix); `module_names` are what --modules accepts.
// Without `sessions` (an application nobody signs in to: HostOptions::sessions), JWT_KEY and
// --session-days are left out.
std::vector<Option> host_options(const std::string& env_prefix,
                                 const std::vector<std::string>& module_names,
                                 bool sessions = true);

// What a command line asks for: a command name (the first word that is not a flag; `serve` when
// there is none, `help` for --help, `version` for --version) and its positional arguments.
struct ParsedCommand {
    std::string name = "serve";
    std::vector<std::string> args;
};

// Reads `options` into `config`: defaults (already in it), then environment variables, then
// flags (flags win). `commands` are the command names accepted. Throws UsageError, naming
// `program` in its hints.
ParsedCommand parse_options(const std::vector<Option>& options,
                            const std::vector<std::string>& commands, const std::string& program,
                            int argc, const char* const* argv, const std::vector<std::string>& env,
                            HostConfig& config);

// The flags part of --help: each option with its variable, help and default (read off `defaults`).
std::string options_help(const std::vector<Option>& options, const HostConfig& defaults);

}  // namespace ticketd::host
