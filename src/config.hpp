#pragma once
// Everything a deployment can set, from flags and environment variables, with defaults that run
// out of the box. `ticketd --help` prints the table this file defines.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ticketd {

struct Config {
    std::string host = "0.0.0.0";
    std::uint16_t port = 3000;
    std::string data_dir = "./data";
    int threads = 0;  // 0: one per hardware thread
    int reservation_window_seconds = 900;
    std::string payments = "fake";  // fake | stripe
    bool payments_chosen = false;   // set by --payments or PAYMENTS_PROVIDER
    int order_wait_ms = 1000;       // an order (payment) waits this long for a ticket (order) not seen yet
    // A once-sold ticket's price is at most its face value times this, in percent (0: no cap).
    int resale_cap_percent = 100;
    bool production = false;
    std::string jwt_key;  // empty: generated in development mode
    int session_days = 14;
    std::string durability = "normal";  // normal | full
    std::string log_format = "text";    // text | json
    std::string log_level = "info";     // debug | info | warn | error
    bool access_log = true;
    std::string stripe_key;
    std::string stripe_api_base = "https://api.stripe.com";
    int stripe_timeout_ms = 10000;  // per try of a Stripe call
    std::string stripe_publishable_key;
    int max_connections = 10000;
    int max_connections_per_address = 256;  // 0: no cap
    std::string trusted_proxies;            // CIDR list whose X-Forwarded-For is believed
    int body_memory_mb = 64;                // request bodies being received, all together
    // Prometheus metrics on a listener of their own, never the public port; "off": none.
    std::string metrics_host = "127.0.0.1";
    int metrics_port = 9464;  // -1: off
    int read_timeout_ms = 30000;
    // The modules this process runs (empty: all five) and the bus between them: "local" (bus.db,
    // in this process) or NATS JetStream servers, "nats://host:port[,nats://...]".
    std::vector<std::string> modules;
    std::string bus = "local";
    std::vector<std::string> bus_servers;  // from --bus nats://...
    bool runs(const std::string& module) const {
        return modules.empty() || std::find(modules.begin(), modules.end(), module) != modules.end();
    }
    // `ticketd events tail` only.
    std::string tail_subject;
    std::int64_t tail_from = 0;
    bool tail_follow = false;
};

// The result of reading the command line: what to do, and with which settings.
struct Command {
    // serve | dead-letters | payments | backup | restore | events | help | version
    std::string name = "serve";
    std::vector<std::string> args;  // positional arguments after the command name
    Config config;
};

// Thrown for a bad flag or value; the message is one line naming the flag. Exit status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads defaults, then environment variables, then flags (flags win). Throws UsageError.
Command parse_command_line(int argc, const char* const* argv, const std::vector<std::string>& env);

// The text of `ticketd --help`.
std::string help_text();

}  // namespace ticketd
