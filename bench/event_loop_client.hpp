#pragma once
// A load generator on one thread: many keep-alive HTTP/1.1 connections, one request in flight on
// each, driven by epoll. It costs the shared two cores far less than a thread per connection, so
// a scenario measures the server rather than the client's context switches.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::bench {

// One unit of work of a scenario: one request, or several in a row on the same connection.
// `request(n, step, previous_body)` returns the full text of step `step` of unit `n` (the
// previous step's response body is given), or "" when the unit is complete.
using Flow = std::function<std::string(long n, int step, std::string_view previous_body)>;

struct LoadResult {
    long units = 0;   // completed units (errors included)
    long errors = 0;  // units that ended with a non-2xx status or a broken connection
    std::vector<double> latency_ms;  // per unit, first byte sent to last response read
    std::vector<int> final_status;   // per unit, the status that ended it (0: connection failed)
    std::vector<std::vector<double>> step_latency_ms;  // [step]: each response's time, sent to read
    double elapsed_s = 0;
};

// Closed loop: `connections` connections each run units back to back for `seconds`.
LoadResult run_closed_loop(std::uint16_t port, int connections, double seconds, const Flow& flow);

// Runs units 0..units-1 over `connections` connections, as fast as they go.
LoadResult run_units(std::uint16_t port, int connections, long units, const Flow& flow);

// Every connection (opened beforehand) runs exactly one unit; all start together.
LoadResult run_once_each(std::uint16_t port, int connections, const Flow& flow);

// "METHOD target HTTP/1.1" with Host, a session cookie when given, and a JSON body when given.
std::string http_request(std::string_view method, std::string_view target,
                         std::string_view cookie = {}, std::string_view json_body = {});

}  // namespace ticketd::bench
