#pragma once
// What an operator sees of a running server: /healthz and /readyz on the public router, and the
// text of /metrics (served on its own listener, see --metrics-listen).
#include <memory>
#include <string>
#include <vector>

#include "host/host_config.hpp"
#include "host/module.hpp"

namespace ticketd::bus {
class Bus;
}
namespace ticketd::http {
class Router;
}

namespace ticketd {

// The parts of the app the operations routes read.
struct OpsView {
    const host::HostConfig& config;
    bus::Bus& bus;
    db::Database& log;  // bus.db
    const std::vector<std::unique_ptr<Module>>& modules;
    std::string_view program;  // names the metrics: <program>_dead_letters, ...
};

void add_ops_routes(http::Router& router, const OpsView& view);
// Prometheus text: counters kept in memory plus gauges read from the databases now.
std::string scrape_metrics(const OpsView& view);

}  // namespace ticketd
