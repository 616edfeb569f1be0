#include "util/metrics.hpp"

#include <malloc.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <tuple>

namespace ticketd::metrics {
namespace {

constexpr std::array<double, 12> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

struct Histogram {
    std::array<std::uint64_t, buckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
};

std::mutex mutex_;
// Request counters by (route, method, status), found by views so that counting a request copies
// no string. Both sides are compared as views: clang 14 cannot compare tuples of mixed types.
using SeriesView = std::tuple<std::string_view, std::string_view, int>;
struct SeriesLess {
    using is_transparent = void;
    static SeriesView view(const SeriesView& v) { return v; }
    static SeriesView view(const std::tuple<std::string, std::string, int>& k) {
        return {std::get<0>(k), std::get<1>(k), std::get<2>(k)};
    }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
        return view(a) < view(b);
    }
};
std::map<std::tuple<std::string, std::string, int>, std::uint64_t, SeriesLess> requests_;
std::map<std::string, Histogram, std::less<>> latency_;
std::map<std::string, std::uint64_t, std::less<>> published_;
std::map<std::string, std::uint64_t, std::less<>> dead_letters_;

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return buf;
}

}  // namespace

std::string label_value(std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

// The method as a label: one of the methods HTTP defines, or "other". A client chooses the method
// it sends, and a series per spelling would let it grow this map (and every scrape) at will.
std::string_view method_label(std::string_view method) {
    static constexpr std::string_view known[] = {"GET",   "HEAD",    "POST",  "PUT",    "DELETE",
                                                 "PATCH", "OPTIONS", "TRACE", "CONNECT"};
    for (auto k : known)
        if (method == k) return k;
    return "other";
}

void record_request(std::string_view route, std::string_view raw_method, int status,
                    double seconds) {
    auto method = method_label(raw_method);
    std::lock_guard lock(mutex_);
    auto key = SeriesView(route, method, status);
    auto counter = requests_.find(key);
    if (counter == requests_.end())
        counter =
            requests_.emplace(std::tuple(std::string(route), std::string(method), status), 0).first;
    ++counter->second;
    auto it = latency_.find(route);
    if (it == latency_.end()) it = latency_.emplace(std::string(route), Histogram{}).first;
    auto& h = it->second;
    for (std::size_t i = 0; i < buckets.size(); ++i)
        if (seconds <= buckets[i]) ++h.counts[i];
    ++h.count;
    h.sum += seconds;
}

void record_published(std::string_view subject, std::int64_t n) {
    std::lock_guard lock(mutex_);
    auto it = published_.find(subject);
    if (it == published_.end()) it = published_.emplace(std::string(subject), 0).first;
    it->second += static_cast<std::uint64_t>(n);
}

void record_dead_letter(std::string_view subscriber) {
    std::lock_guard lock(mutex_);
    auto it = dead_letters_.find(subscriber);
    if (it == dead_letters_.end()) it = dead_letters_.emplace(std::string(subscriber), 0).first;
    ++it->second;
}

void write_help(std::string& out, std::string_view name, std::string_view type,
                std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void write_sample(std::string& out, std::string_view name, std::string_view labels, double value) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += number(value);
    out += '\n';
}

std::string name_in(std::string_view ns, std::string_view metric) {
    std::string out(ns);
    out += '_';
    out += metric;
    return out;
}

void write_prometheus(std::string& out, std::string_view ns) {
    auto name = [ns](std::string_view metric) { return name_in(ns, metric); };
    std::lock_guard lock(mutex_);
    write_help(out, name("http_requests_total"), "counter",
               "HTTP requests by route pattern, method and status.");
    for (const auto& [key, n] : requests_) {
        const auto& [route, method, status] = key;
        write_sample(out, name("http_requests_total"),
                     "route=" + label_value(route) + ",method=" + label_value(method) +
                         ",status=" + label_value(std::to_string(status)),
                     static_cast<double>(n));
    }
    write_help(out, name("http_request_duration_seconds"), "histogram",
               "Time from a request's arrival at the router to its response, by route pattern.");
    for (const auto& [route, h] : latency_) {
        std::string base = "route=" + label_value(route);
        for (std::size_t i = 0; i < buckets.size(); ++i)
            write_sample(out, name("http_request_duration_seconds_bucket"),
                         base + ",le=" + label_value(number(buckets[i])),
                         static_cast<double>(h.counts[i]));
        write_sample(out, name("http_request_duration_seconds_bucket"), base + ",le=\"+Inf\"",
                     static_cast<double>(h.count));
        write_sample(out, name("http_request_duration_seconds_sum"), base, h.sum);
        write_sample(out, name("http_request_duration_seconds_count"), base,
                     static_cast<double>(h.count));
    }
    write_help(out, name("events_published_total"), "counter",
               "Events appended to the event log, by subject.");
    for (const auto& [subject, n] : published_)
        write_sample(out, name("events_published_total"), "subject=" + label_value(subject),
                     static_cast<double>(n));
    write_help(out, name("events_dead_lettered_total"), "counter",
               "Events parked after too many failed tries since start, by subscriber.");
    for (const auto& [sub, n] : dead_letters_)
        write_sample(out, name("events_dead_lettered_total"), "subscriber=" + label_value(sub),
                     static_cast<double>(n));
}

void write_process(std::string& out, std::string_view ns) {
    long pages = 0, resident = 0;
    std::ifstream statm("/proc/self/statm");
    if (statm >> pages >> resident) {
        write_help(out, "process_resident_memory_bytes", "gauge",
                   "Resident memory of the process.");
        write_sample(out, "process_resident_memory_bytes", "",
                     static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
    }
    struct mallinfo2 heap = mallinfo2();
    std::string heap_in_use = name_in(ns, "heap_in_use_bytes");
    write_help(out, heap_in_use, "gauge",
               "Memory the process's allocations hold (malloc arenas and large blocks), freed "
               "memory not counted.");
    write_sample(out, heap_in_use, "", static_cast<double>(heap.uordblks + heap.hblkhd));
}

}  // namespace ticketd::metrics
