#pragma once
// Process-wide request and event counters in Prometheus terms. Thread-safe; cheap enough to call
// on every request (one mutex, a small map).
#include <cstdint>
#include <string>
#include <string_view>

namespace ticketd::metrics {

// One finished HTTP request: `route` is the matched pattern ("/api/orders/:id"), never the raw
// path, so the number of series stays small.
// `route` is a route pattern (a bounded set); a method HTTP does not define is counted as "other".
void record_request(std::string_view route, std::string_view method, int status, double seconds);
std::string_view method_label(std::string_view method);
// `n` events of `subject` appended to the event log.
void record_published(std::string_view subject, std::int64_t n);
void record_dead_letter(std::string_view subscriber);

// Appends the counters and histograms above in Prometheus text format, each named
// `<ns>_<metric>`: the application's name (ticketd_http_requests_total, blog_http_requests_total).
void write_prometheus(std::string& out, std::string_view ns);

// Appends the process's resident memory and the heap memory in use (malloc), now.
void write_process(std::string& out, std::string_view ns);

// `<ns>_<metric>`: a core metric's name in the application `ns` (HostOptions::program).
std::string name_in(std::string_view ns, std::string_view metric);

// Helpers for gauges computed at scrape time.
void write_help(std::string& out, std::string_view name, std::string_view type,
                std::string_view help);
void write_sample(std::string& out, std::string_view name, std::string_view labels, double value);
std::string label_value(std::string_view v);  // quoted and escaped

}  // namespace ticketd::metrics
