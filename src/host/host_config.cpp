#include "host/host_config.hpp"

#include <charconv>
#include <map>
#include <sstream>

#include "http/client_address.hpp"

namespace ticketd::host {

int parse_int(const std::string& text, long min, long max) {
    long v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size() || v < min || v > max)
        throw std::invalid_argument("expected an integer from " + std::to_string(min) + " to " +
                                    std::to_string(max));
    return static_cast<int>(v);
}

bool parse_bool(const std::string& text) {
    if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
    if (text == "0" || text == "false" || text == "no" || text == "off") return false;
    throw std::invalid_argument("expected true or false");
}

std::string one_of(const std::string& text, const std::vector<std::string>& allowed) {
    std::string list;
    for (const auto& a : allowed) {
        if (text == a) return text;
        if (!list.empty()) list += ", ";
        list += a;
    }
    throw std::invalid_argument("expected one of " + list);
}

std::vector<Option> host_options(const std::string& env_prefix,
                                 const std::vector<std::string>& module_names, bool sessions) {
    const std::string& p = env_prefix;
    std::string names;
    for (const auto& m : module_names) names += (names.empty() ? "" : " ") + m;
    std::vector<Option> options{
        {"--port", "PORT", "N", "TCP port to listen on",
         [](auto& c) { return std::to_string(c.port); },
         [](auto& c, auto& v) { c.port = static_cast<std::uint16_t>(parse_int(v, 0, 65535)); }},
        {"--host", p + "HOST", "ADDR",
         "address to listen on (0.0.0.0: all; 127.0.0.1: this machine)",
         [](auto& c) { return c.host; },
         [](auto& c, auto& v) {
             if (v.empty()) throw std::invalid_argument("expected an IP address");
             c.host = v;
         }},
        {"--data-dir", p + "DATA_DIR", "DIR",
         "directory holding the databases (created if missing; one server at a time)",
         [](auto& c) { return c.data_dir; },
         [](auto& c, auto& v) {
             if (v.empty()) throw std::invalid_argument("expected a directory");
             c.data_dir = v;
         }},
        {"--threads", p + "THREADS", "N", "HTTP threads (0: one per hardware thread)",
         [](auto& c) { return std::to_string(c.threads); },
         [](auto& c, auto& v) { c.threads = parse_int(v, 0, 256); }},
        {"--production", "", "",
         "production mode (same as " + p + "ENV=production)" +
             (sessions ? ": JWT_KEY required, Secure cookies" : ""),
         [](auto& c) { return std::string(c.production ? "on" : "off"); },
         [](auto& c, auto&) { c.production = true; }},
        {"", p + "ENV", "development|production", "deployment mode",
         [](auto& c) { return std::string(c.production ? "production" : "development"); },
         [](auto& c, auto& v) {
             c.production = one_of(v, {"development", "production"}) == "production";
         }},
        {"", "JWT_KEY", "KEY",
         "key signing session tokens (development: generated into the data dir)",
         [](auto&) { return std::string("generated"); }, [](auto& c, auto& v) { c.jwt_key = v; }},
        {"--session-days", p + "SESSION_DAYS", "DAYS", "how long a session token stays valid",
         [](auto& c) { return std::to_string(c.session_days); },
         [](auto& c, auto& v) { c.session_days = parse_int(v, 1, 365); }},
        {"--durability", p + "DURABILITY", "normal|full",
         "normal survives a crash of the process; full also survives power loss, ~10x slower "
         "commits",
         [](auto& c) { return std::string(db::to_string(c.durability)); },
         [](auto& c, auto& v) {
             c.durability = one_of(v, {"normal", "full"}) == "full" ? db::Durability::full
                                                                    : db::Durability::normal;
         }},
        {"--log-format", p + "LOG_FORMAT", "text|json", "log line format",
         [](auto& c) { return c.log_format; },
         [](auto& c, auto& v) {
             c.log_format = one_of(v, {"text", "json"});
         }},
        {"--log-level", p + "LOG_LEVEL", "LEVEL", "debug, info, warn or error",
         [](auto& c) { return c.log_level; },
         [](auto& c, auto& v) {
             c.log_level = one_of(v, {"debug", "info", "warn", "error"});
         }},
        {"--access-log", p + "ACCESS_LOG", "true|false", "one log line per request",
         [](auto& c) { return std::string(c.access_log ? "true" : "false"); },
         [](auto& c, auto& v) { c.access_log = parse_bool(v); }},
        {"--max-connections", p + "MAX_CONNECTIONS", "N",
         "open connections at most; at the cap the one idle longest is closed for a newcomer (503 "
         "when all are busy)",
         [](auto& c) { return std::to_string(c.max_connections); },
         [](auto& c, auto& v) { c.max_connections = parse_int(v, 1, 1000000); }},
        {"--max-connections-per-address", p + "MAX_CONNECTIONS_PER_ADDRESS", "N",
         "open connections from one address at most, by the same rule (0: no cap; trusted proxies "
         "are exempt)",
         [](auto& c) { return std::to_string(c.max_connections_per_address); },
         [](auto& c, auto& v) { c.max_connections_per_address = parse_int(v, 0, 1000000); }},
        {"--trusted-proxies", p + "TRUSTED_PROXIES", "CIDR[,CIDR]",
         "reverse proxies whose X-Forwarded-For names the client (for throttles and caps)",
         [](auto& c) {
             return c.trusted_proxies.empty() ? std::string("none") : c.trusted_proxies;
         },
         [](auto& c, auto& v) {
             http::AddressSet::parse(v);  // throws std::invalid_argument naming the bad entry
             c.trusted_proxies = v;
         }},
        {"--max-body-memory", p + "MAX_BODY_MEMORY_MB", "MB",
         "request bodies being received, all connections together; beyond it a request gets a 503",
         [](auto& c) { return std::to_string(c.body_memory_mb); },
         [](auto& c, auto& v) { c.body_memory_mb = parse_int(v, 1, 65536); }},
        {"--metrics-listen", p + "METRICS_LISTEN", "HOST:PORT|off",
         "where /metrics is served, apart from the public port (port 0: any free one)",
         [](auto& c) {
             return c.metrics_port < 0 ? std::string("off")
                                       : c.metrics_host + ":" + std::to_string(c.metrics_port);
         },
         [](auto& c, auto& v) {
             if (v == "off") {
                 c.metrics_port = -1;
                 return;
             }
             auto colon = v.rfind(':');
             if (colon == std::string::npos || colon == 0)
                 throw std::invalid_argument("expected HOST:PORT or off");
             c.metrics_host = v.substr(0, colon);
             c.metrics_port = parse_int(v.substr(colon + 1), 0, 65535);
         }},
        {"--read-timeout-ms", p + "READ_TIMEOUT_MS", "MS",
         "time allowed to send a whole request; idle connections close after it too",
         [](auto& c) { return std::to_string(c.read_timeout_ms); },
         [](auto& c, auto& v) { c.read_timeout_ms = parse_int(v, 100, 3600000); }},
        {"--modules", p + "MODULES", "NAME[,NAME]",
         "modules this process runs (" + names + "); the routes of the others are 404",
         [](auto& c) {
             std::string out;
             for (auto& m : c.modules) out += (out.empty() ? "" : ",") + m;
             return out.empty() ? std::string("all") : out;
         },
         [module_names](auto& c, auto& v) {
             c.modules.clear();
             if (v == "all") return;
             std::stringstream in(v);
             for (std::string m; std::getline(in, m, ',');) {
                 one_of(m, module_names);
                 if (std::find(c.modules.begin(), c.modules.end(), m) == c.modules.end())
                     c.modules.push_back(m);
             }
             if (c.modules.empty()) throw std::invalid_argument("expected at least one module");
         }},
        {"--bus", p + "BUS", "local|nats://HOST:PORT[,...]",
         "the event bus: in this process (bus.db), or NATS JetStream servers shared by every "
         "process",
         [](auto& c) { return c.bus; },
         [](auto& c, auto& v) {
             c.bus_servers.clear();
             if (v == "local") {
                 c.bus = v;
                 return;
             }
             std::stringstream in(v);
             for (std::string url; std::getline(in, url, ',');) {
                 if (url.rfind("nats://", 0) != 0 || url.size() <= 7)
                     throw std::invalid_argument(
                         "expected local or nats://HOST:PORT[,nats://HOST:PORT...]");
                 c.bus_servers.push_back(url);
             }
             if (c.bus_servers.empty())
                 throw std::invalid_argument("expected local or nats://HOST:PORT");
             c.bus = v;
         }},
        {"--subject", "", "SUBJECT", "events tail: only this subject",
         [](auto&) { return std::string("all"); }, [](auto& c, auto& v) { c.tail_subject = v; }},
        {"--from", "", "SEQ", "events tail: start after this sequence number",
         [](auto&) { return std::string("0"); },
         [](auto& c, auto& v) { c.tail_from = parse_int(v, 0, 2000000000); }},
        {"--follow", "", "", "events tail: keep printing new events",
         [](auto&) { return std::string("off"); }, [](auto& c, auto&) { c.tail_follow = true; }},
    };
    if (!sessions)
        std::erase_if(options, [](const Option& o) {
            return o.env == "JWT_KEY" || o.flag == "--session-days";
        });
    return options;
}

ParsedCommand parse_options(const std::vector<Option>& options,
                            const std::vector<std::string>& commands, const std::string& program,
                            int argc, const char* const* argv, const std::vector<std::string>& env,
                            HostConfig& config) {
    ParsedCommand cmd;
    std::map<std::string, std::string> vars;
    for (const auto& kv : env) {
        auto eq = kv.find('=');
        if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& o : options) {
        if (o.env.empty()) continue;
        auto it = vars.find(o.env);
        if (it == vars.end() || (it->second.empty() && o.env != "JWT_KEY")) continue;
        try {
            o.set(config, it->second);
        } catch (const std::invalid_argument& e) {
            throw UsageError(o.env + ": " + e.what() + ", got '" + it->second + "'");
        }
    }

    bool named = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") return {.name = "help", .args = {}};
        if (arg == "--version") return {.name = "version", .args = {}};
        if (arg.rfind("--", 0) != 0) {
            if (!named) {
                if (arg != "serve" &&
                    std::find(commands.begin(), commands.end(), arg) == commands.end())
                    throw UsageError("unknown command '" + arg + "' (see " + program + " --help)");
                cmd.name = arg;
                named = true;
            } else {
                cmd.args.push_back(arg);
            }
            continue;
        }
        std::string flag = arg, value;
        bool has_value = false;
        if (auto eq = arg.find('='); eq != std::string::npos) {
            flag = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            has_value = true;
        }
        const Option* opt = nullptr;
        for (const auto& o : options)
            if (!o.flag.empty() && o.flag == flag) opt = &o;
        if (!opt) throw UsageError("unknown flag " + flag + " (see " + program + " --help)");
        if (opt->value.empty()) {
            if (has_value) throw UsageError(flag + ": takes no value");
        } else if (!has_value) {
            if (i + 1 >= argc) throw UsageError(flag + ": missing value");
            value = argv[++i];
        }
        try {
            opt->set(config, value);
        } catch (const std::invalid_argument& e) {
            throw UsageError(flag + ": " + e.what() + ", got '" + value + "'");
        }
    }
    return cmd;
}

std::string options_help(const std::vector<Option>& options, const HostConfig& defaults) {
    std::ostringstream out;
    for (const auto& o : options) {
        std::string left = o.flag.empty() ? "" : o.flag + (o.value.empty() ? "" : " " + o.value);
        std::string env = o.env.empty() ? "" : "$" + o.env + (o.flag.empty() ? "=" + o.value : "");
        std::string head = left.empty() ? env : (env.empty() ? left : left + ", " + env);
        out << "  " << head << "\n      " << o.help << " (default: " << o.show_default(defaults)
            << ")\n";
    }
    return out.str();
}

}  // namespace ticketd::host
