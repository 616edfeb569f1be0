// `make bench`: starts a fresh ticketd on a free port, prepares data, runs each scenario with
// real sockets and prints one table (requests/s, p50, p99, errors, the server's peak RSS), with a
// bare Beast hello-world built with the same flags as the ceiling. Then measures the bus alone.
//
// Usage: ticketd_bench BUILD_DIR [seconds per scenario] [scenario,...]
//   scenarios: hello, health, get, list, post, dogpile, refuse (with dogpile), purchase, bus,
//   replay, blog (the blog example: rebuild, GET /posts, comment-to-decision latency) (default:
//   all). TICKETD_BENCH_KEEP=1 keeps the data directory; TICKETD_BENCH_THREADS=1 prints each server
//   thread's CPU per purchase flow to stderr; TICKETD_BENCH_SERVER_LOG=FILE appends the servers'
//   log lines to FILE.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>

#include "bus/local_bus.hpp"
#include "bus/nats_bus.hpp"
#include "db/database.hpp"
#include "event_loop_client.hpp"
#include "http/message.hpp"
#include "http/session.hpp"
#include "support/child_server.hpp"
#include "support/http_client.hpp"
#include "support/split_deployment.hpp"
#include "ticketd/events/ticket_events.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"

using namespace ticketd;
using Clock = std::chrono::steady_clock;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

const std::string jwt_key = "bench-signing-key-0123456789abcdef0123456789";

struct Process {
    pid_t pid = -1;
    std::uint16_t port = 0;
    double startup_ms = 0;
    void stop() {
        if (pid > 0) {
            kill(pid, SIGTERM);
            waitpid(pid, nullptr, 0);
        }
        pid = -1;
    }
    // CPU seconds each of the server's threads has used, by thread name (/proc/PID/task/*/stat).
    std::map<std::string, double> thread_cpu() const {
        std::map<std::string, double> out;
        static const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
        for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
            std::ifstream in(task.path() / "stat");
            std::string stat((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
            auto open = stat.find('('), close = stat.rfind(')');
            if (open == std::string::npos || close == std::string::npos) continue;
            std::istringstream rest(stat.substr(close + 2));
            std::string field;
            double utime = 0, stime = 0;
            for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15: utime, stime
                if (i == 14) utime = std::stod(field);
                if (i == 15) stime = std::stod(field);
            }
            out[stat.substr(open + 1, close - open - 1)] += (utime + stime) / tick;
        }
        return out;
    }
    long rss_kib(const char* field = "VmHWM:") const {
        std::ifstream in("/proc/" + std::to_string(pid) + "/status");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
        return 0;
    }
};

// Starts `argv` and waits until GET /healthz answers on `port`.
Process spawn(std::vector<std::string> argv, std::uint16_t port) {
    auto started = Clock::now();
    Process p;
    p.port = port;
    const char* log = std::getenv("TICKETD_BENCH_SERVER_LOG");  // the servers' own log lines
    p.pid = test::spawn_process(argv, {{"JWT_KEY", jwt_key}}, log ? log : "/dev/null");
    for (int i = 0; i < 5000; ++i) {
        try {
            test::HttpClient c(port);
            if (c.get("/healthz").status == 200) break;
        } catch (const std::exception&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    p.startup_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    return p;
}

// Waits until every subscriber's lag on /metrics is zero.
void wait_caught_up(std::uint16_t port) {
    for (int i = 0; i < 6000; ++i) {
        test::HttpClient c(port);
        auto body = c.get("/metrics").body;
        bool behind = false, seen = false;
        std::size_t at = 0;
        while ((at = body.find("\nticketd_subscriber_lag_events{", at)) != std::string::npos) {
            seen = true;
            at = body.find("} ", at) + 2;
            if (body.compare(at, 2, "0\n") != 0) behind = true;
        }
        if (seen && !behind) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::uint16_t free_port() { return test::pick_stable_port(); }

std::string cookie_for(const std::string& user) {
    static util::SystemClock clock;
    static http::Sessions sessions(jwt_key, false, std::chrono::hours(24), clock);
    return util::base64_encode(
        json::serialize(json::object{{"jwt", sessions.issue(user, user + "@bench")}}));
}

struct Result {
    std::string name;
    double rps = 0, p50_ms = 0, p99_ms = 0;
    long errors = 0;
    long rss_kib = 0;
    std::string note;
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

Result measure(const std::string& name, bench::LoadResult res) {
    Result r{name,
             static_cast<double>(res.units) / res.elapsed_s,
             percentile(res.latency_ms, 0.50),
             percentile(res.latency_ms, 0.99),
             res.errors,
             0,
             ""};
    return r;
}

bench::Flow get(std::string target) {
    auto request = bench::http_request("GET", target);
    return [request](long, int step, std::string_view) { return step ? std::string() : request; };
}

std::string id_of(std::string_view body) {
    try {
        return std::string(json::parse(body).at("id").as_string());
    } catch (const std::exception&) {
        return "?";
    }
}

// Creates `n` tickets as `seller` (50 connections) and returns their ids in order: titled
// "Bench <first + i>" at 10, or as `body` makes them.
std::vector<std::string> create_tickets(std::uint16_t port, const std::string& seller, long n,
                                        long first,
                                        const std::function<std::string(long)>& body = {}) {
    std::vector<std::string> ids(static_cast<std::size_t>(n));
    auto res = bench::run_units(
        port, std::min<long>(50, n), n, [&](long i, int step, std::string_view previous) {
            if (step == 0)
                return bench::http_request(
                    "POST", "/api/tickets", seller,
                    body ? body(first + i)
                         : R"({"title":"Bench )" + std::to_string(first + i) + R"(","price":10})");
            ids[static_cast<std::size_t>(i)] = id_of(previous);
            return std::string();
        });
    if (res.errors) throw std::runtime_error("creating tickets failed");
    return ids;
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto sec = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return sec(u.ru_utime) + sec(u.ru_stime);
}

std::int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
        .count();
}

enum class BusMode {
    drain,       // 200k events already in the outbox, then the bus starts: relay + delivery only
    concurrent,  // a publisher commits 200k events (100 per transaction) while the bus delivers
    paced,       // 5,000 events/s (10 per transaction every 2 ms) for the latency of a calm bus
};

// One publishing database, the log and three subscribing databases on disk; each subscriber's
// handler decodes the event. Events/s counts events (each delivered three times) from the first
// publish to the moment every subscriber has processed the last one; p50/p99 are the delay from
// the publisher's commit to the first subscriber's handler.
// In-process (LocalBus, bus.db) or, given `nats` (the split deployment's cluster), through a
// JetStream stream of its own with three replicas (NatsBus), with fewer events.
Result bus_run(const fs::path& dir, BusMode mode, const std::vector<std::string>& nats = {}) {
    fs::create_directories(dir);
    db::Database log("bus", (dir / "bus.db").string());
    log.migrate({"bus"});
    db::Database pub("probe", (dir / "pub.db").string());
    pub.migrate({"probe", "outbox"});
    std::vector<std::unique_ptr<db::Database>> subs;
    for (int i = 0; i < 3; ++i) {
        subs.push_back(std::make_unique<db::Database>(
            "probe", (dir / ("sub" + std::to_string(i) + ".db")).string()));
        subs.back()->migrate({"probe", "outbox"});
    }
    std::unique_ptr<bus::Bus> owned;
    if (nats.empty()) {
        owned = std::make_unique<bus::LocalBus>(log);
    } else {
        bus::NatsBusOptions options;
        options.servers = nats;
        options.stream = "BENCH" + std::to_string(static_cast<int>(mode));
        options.subject_prefix = "bench" + std::to_string(static_cast<int>(mode));
        owned = std::make_unique<bus::NatsBus>(log, options);
    }
    auto& bus = *owned;
    bus.attach_outbox(pub);
    std::mutex m;
    std::vector<double> delays;
    for (int i = 0; i < 3; ++i)
        bus.subscribe<events::TicketCreated>(
            "bench.sub" + std::to_string(i), *subs[i],
            [&, i](db::WriteTx&, const events::TicketCreated& e) {
                if (i == 0) {
                    auto now = steady_us();
                    std::lock_guard lock(m);
                    delays.push_back(static_cast<double>(now - e.version) / 1000.0);
                }
                return bus::Outcome::ack;
            });
    const int events = mode == BusMode::paced ? 25000 : nats.empty() ? 200000 : 50000;
    const int per_tx = mode == BusMode::concurrent ? 100 : 10;
    auto publish = [&](int n) {
        db::WriteTx tx(pub);
        auto stamp = steady_us();
        for (int j = 0; j < n; ++j) bus.publish(tx, events::TicketCreated{"t", stamp, "x", 1, "u"});
        tx.commit();
    };
    if (mode == BusMode::drain)
        for (int i = 0; i < events; i += 1000) publish(1000);
    auto cpu0 = cpu_seconds();
    auto t0 = Clock::now();
    bus.start();
    if (mode != BusMode::drain) {
        auto next = Clock::now();
        for (int i = 0; i < events; i += per_tx) {
            publish(per_tx);
            if (mode == BusMode::paced) {
                next += std::chrono::milliseconds(2);
                std::this_thread::sleep_until(next);
            }
        }
    }
    bool idle = bus.wait_idle(std::chrono::minutes(5));
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    double cpu = cpu_seconds() - cpu0;
    bus.stop();
    const char* names[] = {"bus: 200k events from outbox -> 3 subscribers",
                           "bus: publish + deliver 200k concurrently",
                           "bus: 5,000 events/s, commit -> delivery"};
    const char* split_names[] = {"split bus: 50k events from outbox -> 3 subscribers",
                                 "split bus: publish + deliver 50k concurrently",
                                 "split bus: 5,000 events/s, commit -> delivery"};
    Result r{(nats.empty() ? names : split_names)[static_cast<int>(mode)],
             events / elapsed,
             percentile(delays, 0.5),
             percentile(delays, 0.99),
             idle ? events - static_cast<long>(delays.size()) : events,
             0,
             ""};
    char note[128];
    std::snprintf(note, sizeof note, "events/s; %.1f us CPU per event%s", 1e6 * cpu / events,
                  mode == BusMode::paced ? "; p50/p99 = commit -> handler" : "");
    r.note = note;
    return r;
}

// Where the server's memory is now, from its /metrics: SQLite's page caches and the heap in use.
std::string memory_note(std::uint16_t port) {
    auto body = test::HttpClient(port).get("/metrics").body;
    double caches = 0, heap = 0;
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);) {
        auto value = [&] { return std::stod(line.substr(line.rfind(' ') + 1)); };
        if (line.starts_with("ticketd_database_cache_bytes{")) caches += value();
        if (line.starts_with("ticketd_heap_in_use_bytes ")) heap = value();
    }
    char note[96];
    std::snprintf(note, sizeof note, "SQLite caches %.1f MiB, heap %.1f MiB", caches / 1048576,
                  heap / 1048576);
    return note;
}

// Notes the server's and the load client's CPU per unit of work on `r`; with TICKETD_BENCH_THREADS
// set, prints each server thread's share to stderr (where the time goes, for profiling).
void describe_cpu(Result& r, const std::map<std::string, double>& before,
                  const std::map<std::string, double>& after, double client_s, double units) {
    double server_s = 0;
    std::vector<std::pair<double, std::string>> by_thread;
    for (const auto& [name, s] : after) {
        auto was = before.find(name);
        double used = s - (was == before.end() ? 0 : was->second);
        server_s += used;
        by_thread.emplace_back(used, name);
    }
    char note[128];
    std::snprintf(note, sizeof note, "CPU per flow: server %.0f us, load client %.0f us",
                  1e6 * server_s / units, 1e6 * client_s / units);
    r.note = note;
    if (!std::getenv("TICKETD_BENCH_THREADS")) return;
    std::sort(by_thread.rbegin(), by_thread.rend());
    for (const auto& [used, name] : by_thread)
        if (used > 0)
            std::fprintf(stderr, "  %-16s %7.0f us per unit\n", name.c_str(), 1e6 * used / units);
}

void print(const std::vector<Result>& rows) {
    std::printf("\n%-44s %12s %9s %9s %7s %10s  %s\n", "scenario", "req/s", "p50 ms", "p99 ms",
                "errors", "peak RSS", "");
    for (const auto& r : rows)
        std::printf("%-44s %12.0f %9.3f %9.3f %7ld %7ld KiB  %s\n", r.name.c_str(), r.rps, r.p50_ms,
                    r.p99_ms, r.errors, r.rss_kib, r.note.c_str());
    std::fflush(stdout);
}

}  // namespace

// Complete purchases (reserve + pay) with 16 concurrent buyers, each on tickets of its own.
bench::LoadResult purchase_flows(std::uint16_t at, const std::string& seller, int tickets,
                                 double seconds) {
    auto stock = create_tickets(at, seller, tickets, 100000);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the orders replica catches up
    const std::string buyer = cookie_for("flow-buyer");
    return bench::run_closed_loop(
        at, 16, seconds, [&, stock](long n, int step, std::string_view previous) {
            if (step == 0)
                return bench::http_request("POST", "/api/orders", buyer,
                                           R"({"ticketId":")" +
                                               stock[static_cast<std::size_t>(n) % stock.size()] +
                                               R"("})");
            if (step == 1)  // paid at once: payments waits for an order:created it has not seen yet
                return bench::http_request(
                    "POST", "/api/payments", buyer,
                    R"({"token":"tok_visa","orderId":")" + id_of(previous) + R"("})");
            return std::string();
        });
}

std::string step_note(bench::LoadResult& flows) {
    if (flows.step_latency_ms.size() != 2) return std::string();
    char note[96];
    std::snprintf(note, sizeof note, "p50 order %.1f ms, payment %.1f ms",
                  percentile(flows.step_latency_ms[0], 0.5),
                  percentile(flows.step_latency_ms[1], 0.5));
    return std::string(note);
}

// Appends one event straight into bus.db's log, as the relay would have (for replay scenarios).
void append_logged(db::WriteTx& tx, const char* subject, const std::string& payload) {
    auto& ins = tx.statement(
        "INSERT INTO events (event_id, subject, payload, source, created_at, logged_at)"
        " VALUES (?, ?, ?, 'bench', 0, 0)");
    ins.bind(1, util::time_ordered_id());
    ins.bind(2, subject);
    ins.bind(3, payload);
    ins.exec();
}

// The blog example (examples/blog): a log of the blog's events, written straight into bus.db in
// log order (each post, then its comments, then their moderated updates).
void write_blog_log(const fs::path& dir, int posts, int comments_per_post) {
    fs::create_directories(dir);
    db::Database log("bus", (dir / "bus.db").string());
    log.migrate({"bus"});
    db::WriteTx tx(log);
    for (int p = 0; p < posts; ++p) {
        std::string post = "p" + std::to_string(p);
        append_logged(tx, "post:created",
                      json::serialize(json::object{{"id", post},
                                                   {"title", "Post number " + std::to_string(p)}}));
        for (int c = 0; c < comments_per_post; ++c) {
            std::string id = post + "c" + std::to_string(c);
            std::string content = "A comment of some forty characters, #" + std::to_string(c);
            append_logged(
                tx, "comment:created",
                json::serialize(json::object{
                    {"id", id}, {"postId", post}, {"content", content}, {"status", "pending"}}));
            append_logged(
                tx, "comment:updated",
                json::serialize(json::object{
                    {"id", id}, {"postId", post}, {"content", content}, {"status", "approved"}}));
        }
    }
    tx.commit();
}

// `blog rebuild query` on `dir`; returns its wall time in seconds.
double blog_rebuild(const std::string& build, const fs::path& dir) {
    auto t0 = Clock::now();
    std::string cmd = "JWT_KEY=" + jwt_key + " " + build +
                      "/examples/blog/blog rebuild query --log-level warn --data-dir " +
                      dir.string() + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("blog rebuild query failed");
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

Process spawn_blog(const std::string& build, const fs::path& dir,
                   const std::string& modules = "all") {
    auto port = free_port();
    return spawn({build + "/examples/blog/blog", "--port", std::to_string(port), "--host",
                  "127.0.0.1", "--data-dir", dir.string(), "--access-log", "false", "--log-level",
                  "warn", "--metrics-listen", "off", "--modules", modules},
                 port);
}

std::vector<Result> blog_bench(const std::string& build, const fs::path& tmp, double seconds) {
    std::vector<Result> rows;
    {
        // Rebuilding the view from the log: 50,000 posts of 10 comments, each comment created and
        // updated: 1,050,000 events through the query module's three subscriptions.
        auto dir = tmp / "blog-rebuild";
        write_blog_log(dir, 50000, 10);
        double elapsed = blog_rebuild(build, dir);
        rows.push_back({"blog: rebuild query from 1,050,000 events", 1050000 / elapsed, 0, 0, 0, 0,
                        "events/s, `blog rebuild query` wall time " +
                            std::to_string(elapsed).substr(0, 5) + " s"});
        if (!std::getenv("TICKETD_BENCH_KEEP")) fs::remove_all(dir);
    }
    {
        // GET /posts as the course's client asks for it: every post, with 1,000 posts of 10.
        auto dir = tmp / "blog-page";
        write_blog_log(dir, 1000, 10);
        blog_rebuild(build, dir);
        // Only the view and posts: the log was written here, not by comments and moderation.
        auto server = spawn_blog(build, dir, "posts,query");
        test::HttpClient probe(server.port);
        auto size = probe.get("/posts").body.size();
        auto r = measure("blog: GET /posts, 1,000 posts x 10 comments",
                         bench::run_closed_loop(server.port, 8, seconds, get("/posts")));
        r.rss_kib = server.rss_kib();
        r.note = std::to_string(size / 1024) + " KiB per answer (cached until the view changes)";
        rows.push_back(r);
        // The same page just after the view changed (a new post): rendered again from query.db.
        std::vector<double> render_ms;
        for (int i = 0; i < 20; ++i) {
            probe.post("/posts/create", R"({"title":"one more"})");
            std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the view hears of it
            auto t = Clock::now();
            probe.get("/posts");
            render_ms.push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        }
        rows.push_back({"blog: GET /posts just after a change (same page)",
                        1000.0 / percentile(render_ms, 0.5), percentile(render_ms, 0.5),
                        percentile(render_ms, 0.95), 0, 0,
                        "one request at a time, 20 tries; p99 column: p95"});
        server.stop();
    }
    {
        // From a comment's 201 to its final status in GET /posts, at 500 comments/s: two writers
        // at 250/s each, and a reader polling GET /posts as fast as it answers.
        auto dir = tmp / "blog-live";
        fs::create_directories(dir);
        auto server = spawn_blog(build, dir);
        std::vector<std::string> posts;
        {
            test::HttpClient c(server.port);
            for (int i = 0; i < 20; ++i)
                posts.push_back(id_of(
                    c.post("/posts/create", R"({"title":"Live )" + std::to_string(i) + R"("})")
                        .body));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        std::mutex m;
        std::map<std::string, Clock::time_point> acknowledged, decided;
        std::atomic<bool> writing{true}, reading{true};
        std::atomic<long> errors{0};
        auto t0 = Clock::now();
        std::vector<std::thread> writers;
        for (int w = 0; w < 2; ++w)
            writers.emplace_back([&, w] {
                test::HttpClient c(server.port);
                auto next = Clock::now();
                for (long n = 0; Clock::now() - t0 < std::chrono::duration<double>(seconds); ++n) {
                    next += std::chrono::microseconds(4000);  // 250/s
                    std::this_thread::sleep_until(next);
                    auto r =
                        c.post("/posts/" + posts[static_cast<std::size_t>(n + w) % posts.size()] +
                                   "/comments",
                               R"({"content":"comment )" + std::to_string(n) +
                                   (n % 7 ? "" : " orange") + R"("})");
                    auto at = Clock::now();
                    if (r.status != 201) {
                        ++errors;
                        continue;
                    }
                    auto list = json::parse(r.body).as_array();
                    std::lock_guard lock(m);
                    acknowledged[std::string(list.back().at("id").as_string())] = at;
                }
            });
        std::thread reader([&] {
            test::HttpClient c(server.port);
            while (reading) {
                auto body = c.get("/posts").body;
                auto at = Clock::now();
                auto view = json::parse(body).as_object();
                std::lock_guard lock(m);
                for (const auto& [id, post] : view)
                    for (const auto& cm : post.at("comments").as_array())
                        if (cm.at("status").as_string() != "pending")
                            decided.emplace(std::string(cm.at("id").as_string()), at);
            }
        });
        for (auto& w : writers) w.join();
        double write_s = std::chrono::duration<double>(Clock::now() - t0).count();
        for (int i = 0; i < 100; ++i) {
            {
                std::lock_guard lock(m);
                if (decided.size() >= acknowledged.size()) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        reading = false;
        reader.join();
        std::vector<double> latency;
        long undecided = 0;
        for (const auto& [id, at] : acknowledged) {
            auto d = decided.find(id);
            if (d == decided.end()) {
                ++undecided;
                continue;
            }
            latency.push_back(
                std::max(0.0, std::chrono::duration<double, std::milli>(d->second - at).count()));
        }
        Result r{"blog: comment 201 -> final status in GET /posts",
                 static_cast<double>(acknowledged.size()) / write_s,
                 percentile(latency, 0.5),
                 percentile(latency, 0.99),
                 errors + undecided,
                 server.rss_kib(),
                 "comments/s written; p50/p99: until the view shows the decision"};
        rows.push_back(r);
        server.stop();
    }
    return rows;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: ticketd_bench BUILD_DIR [seconds] "
                     "[hello,health,get,list,post,dogpile,purchase,bus,replay]\n");
        return 2;
    }
    std::string build = argv[1];
    double seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
    signal(SIGPIPE, SIG_IGN);
    log::configure(log::Level::warn, log::Format::text);  // the figures, not the migrations
    auto tmp = fs::temp_directory_path() / ("ticketd-bench-" + std::to_string(getpid()));
    fs::create_directories(tmp);
    std::vector<Result> rows;
    // Optional third argument: run only the scenarios whose key it names (comma-separated):
    // hello, health, get, list, search, post, dogpile, refuse (with dogpile), purchase, bus,
    // replay.
    std::string only = argc > 3 ? std::string(",") + argv[3] + "," : "";
    auto want = [&](const char* key) {
        return only.empty() || only.find(std::string(",") + key + ",") != std::string::npos;
    };
    bool http_scenarios = false;
    for (auto key : {"hello", "health", "get", "list", "search", "post", "dogpile", "purchase"})
        http_scenarios |= want(key);

    if (http_scenarios) {
        // The ceiling: a bare Beast hello-world, one thread, like ticketd --threads 1 below. It
        // keeps running for the ratios below.
        Process hello;
        if (want("hello")) {
            auto port = free_port();
            hello = spawn({build + "/ticketd_hello", std::to_string(port), "1"}, port);
            auto r = measure("hello-world (bare Beast, 1 thread)",
                             bench::run_closed_loop(port, 50, seconds, get("/healthz")));
            r.rss_kib = hello.rss_kib();
            rows.push_back(r);
            if (want("dogpile")) {
                // The floor for the dogpile: the same burst of 1,000 simultaneous requests,
                // answered by the bare server with nothing to do.
                auto burst = measure("hello-world: 1,000 simultaneous requests",
                                     bench::run_once_each(port, 1000, get("/healthz")));
                burst.rss_kib = hello.rss_kib();
                burst.note = "the floor for the dogpile row";
                rows.push_back(burst);
            }
        }
        auto port = free_port();
        auto metrics_port = free_port();
        auto data = (tmp / "data").string();
        auto server = spawn({build + "/ticketd", "--port", std::to_string(port), "--host",
                             "127.0.0.1", "--data-dir", data, "--threads", "1", "--access-log",
                             "false", "--log-level", "warn", "--reservation-window", "900",
                             "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)},
                            port);
        Result idle{"idle (empty data dir)", 0, 0, 0, 0, server.rss_kib("VmRSS:"), ""};
        char note[96];
        std::snprintf(note, sizeof note, "start-up %.1f ms", server.startup_ms);
        idle.note = note;
        rows.push_back(idle);
        // A route's share of the hello-world's requests/s, as the median of three pairs of short
        // alternating runs: on a shared machine a ceiling measured minutes earlier skews the ratio
        // by as much as ten points.
        auto vs_hello = [&](Result& r, const bench::Flow& flow) {
            if (hello.pid <= 0) return;
            auto rps = [](const bench::LoadResult& res) {
                return static_cast<double>(res.units) / res.elapsed_s;
            };
            std::vector<double> ratios;
            for (int i = 0; i < 3; ++i) {
                double ceiling =
                    rps(bench::run_closed_loop(hello.port, 50, seconds / 3, get("/healthz")));
                double route = rps(bench::run_closed_loop(port, 50, seconds / 3, flow));
                ratios.push_back(100.0 * route / ceiling);
            }
            std::sort(ratios.begin(), ratios.end());
            char n[96];
            std::snprintf(n, sizeof n, "%.0f%% of hello-world (alternating runs: %.0f-%.0f%%)",
                          ratios[1], ratios[0], ratios[2]);
            r.note = n;
        };

        const std::string seller = cookie_for("seller");
        if (want("health")) {
            auto r =
                measure("GET /healthz", bench::run_closed_loop(port, 50, seconds, get("/healthz")));
            vs_hello(r, get("/healthz"));
            r.rss_kib = server.rss_kib();
            rows.push_back(r);
        }
        // 10,000 listed tickets.
        auto ids = create_tickets(port, seller, 10000, 0);
        if (want("get")) {
            bench::Flow by_id = [&](long n, int step, std::string_view) {
                return step ? std::string()
                            : bench::http_request(
                                  "GET",
                                  "/api/tickets/" + ids[static_cast<std::size_t>(n) % ids.size()]);
            };
            auto r =
                measure("GET /api/tickets/:id", bench::run_closed_loop(port, 50, seconds, by_id));
            vs_hello(r, by_id);
            r.rss_kib = server.rss_kib();
            rows.push_back(r);
        }
        if (want("list")) {
            auto r = measure("GET /api/tickets (first page of 10,000)",
                             bench::run_closed_loop(port, 50, seconds, get("/api/tickets")));
            vs_hello(r, get("/api/tickets"));
            r.rss_kib = server.rss_kib();
            rows.push_back(r);
        }
        // Search over 100,000 listed tickets, in a server of its own (the rows above and below keep
        // their 10,000): titles "<artist> - <city> <year>" from 40 artists and 25 cities, so a
        // query for an artist and a city matches 100 tickets and one for an artist alone 2,500.
        if (want("search")) {
            static const char* artists[] = {
                "Radiohead", "Beyoncé",    "Coldplay",       "Adele",      "Metallica",
                "Björk",     "Muse",       "Oasis",          "Blur",       "Queen",
                "Pixies",    "Portishead", "Massive Attack", "Daft Punk",  "Arcade Fire",
                "Kraftwerk", "Sigur Rós",  "Röyksopp",       "Air",        "Justice",
                "Phoenix",   "Rosalía",    "Stromae",        "Christine",  "Angèle",
                "Zaz",       "Indochine",  "Dua Lipa",       "Lorde",      "Florence",
                "Hozier",    "Interpol",   "Yeah Yeahs",     "Vampire",    "Strokes",
                "Wilco",     "Beck",       "Moby",           "Underworld", "Orbital"};
            static const char* cities[] = {"London",  "Paris",   "Berlin", "Madrid", "Roma",
                                           "Lisboa",  "Dublin",  "Wien",   "Praha",  "Oslo",
                                           "Köln",    "Zürich",  "Genève", "Lyon",   "Nantes",
                                           "Sevilla", "Porto",   "Milano", "Napoli", "Krakow",
                                           "Gdansk",  "Tallinn", "Riga",   "Malmö",  "Aarhus"};
            auto search_port = free_port();
            auto search_server =
                spawn({build + "/ticketd", "--port", std::to_string(search_port), "--host",
                       "127.0.0.1", "--data-dir", (tmp / "search").string(), "--access-log",
                       "false", "--log-level", "warn"},
                      search_port);
            auto t0 = Clock::now();
            create_tickets(search_port, seller, 100000, 0, [](long i) {
                auto artist = artists[i % 40], city = cities[(i / 40) % 25];
                return json::serialize(json::object{
                    {"title",
                     std::string(artist) + " - " + city + " " + std::to_string(2027 + i % 3)},
                    {"price", 10 + i % 190}});
            });
            double create_s = std::chrono::duration<double>(Clock::now() - t0).count();
            // Prefixes as people type them, one query after another across the vocabulary.
            auto prefix = [](const char* word, std::size_t n) {
                std::string w(word);
                return w.substr(0, std::min(n, w.find(' ')));
            };
            std::vector<std::string> narrow, broad;
            for (int a = 0; a < 40; ++a) {
                broad.push_back(bench::http_request(
                    "GET", "/api/tickets?q=" + http::percent_encode(prefix(artists[a], 5)) +
                               "&sort=price"));
                for (int c = 0; c < 25; ++c)
                    narrow.push_back(bench::http_request(
                        "GET", "/api/tickets?q=" +
                                   http::percent_encode(prefix(artists[a], 5) + " " +
                                                        prefix(cities[c], 4)) +
                                   "&maxPrice=150&sort=price"));
            }
            auto rotate = [](const std::vector<std::string>& requests) -> bench::Flow {
                return [&requests](long n, int step, std::string_view) {
                    return step ? std::string()
                                : requests[static_cast<std::size_t>(n) % requests.size()];
                };
            };
            auto r = measure("search: artist + city, price sort (100 of 100,000)",
                             bench::run_closed_loop(search_port, 50, seconds, rotate(narrow)));
            char note[96];
            std::snprintf(note, sizeof note, "100,000 created via POST in %.1f s (%.0f/s)",
                          create_s, 100000 / create_s);
            r.note = note;
            r.rss_kib = search_server.rss_kib();
            rows.push_back(r);
            {
                // Every search computed, none answered from the page cache (each asks for a limit
                // not asked before): what a search costs when its pages have just been dropped.
                std::vector<std::string> uncached;
                for (int i = 0; i < 100000; ++i)
                    uncached.push_back(bench::http_request(
                        "GET",
                        "/api/tickets?q=" +
                            http::percent_encode(prefix(artists[i % 40], 5) + " " +
                                                 prefix(cities[(i / 40) % 25], 4)) +
                            "&maxPrice=150&sort=price&limit=" + std::to_string(101 + i / 1000)));
                auto computed =
                    measure("search: artist + city, every search computed",
                            bench::run_closed_loop(search_port, 50, seconds, rotate(uncached)));
                computed.rss_kib = search_server.rss_kib();
                rows.push_back(computed);
            }
            {
                // The same searches while a seller lists tickets nonstop: each listing drops the
                // cached pages of the searches it matches (its artist and city: one of the 1,000
                // searches), the others stay cached.
                std::atomic<long> listed{0};
                std::thread writer([&] {
                    auto res = bench::run_closed_loop(
                        search_port, 1, seconds, [&](long n, int step, std::string_view) {
                            return step ? std::string()
                                        : bench::http_request(
                                              "POST", "/api/tickets", seller,
                                              R"({"title":"Radiohead - London 2030 )" +
                                                  std::to_string(n) + R"(","price":20})");
                        });
                    listed = res.units;
                });
                auto busy =
                    measure("search: artist + city, while tickets are listed nonstop",
                            bench::run_closed_loop(search_port, 50, seconds, rotate(narrow)));
                writer.join();
                char busy_note[96];
                std::snprintf(busy_note, sizeof busy_note, "%.0f tickets listed/s meanwhile",
                              listed / seconds);
                busy.note = busy_note;
                busy.rss_kib = search_server.rss_kib();
                rows.push_back(busy);
            }
            r = measure("search: one word, price sort (2,500 of 100,000)",
                        bench::run_closed_loop(search_port, 50, seconds, rotate(broad)));
            r.rss_kib = search_server.rss_kib();
            rows.push_back(r);
            r = measure("GET /api/tickets (first page of 100,000)",
                        bench::run_closed_loop(search_port, 50, seconds, get("/api/tickets")));
            r.rss_kib = search_server.rss_kib();
            rows.push_back(r);
            search_server.stop();
        }
        if (want("post")) {
            const std::string poster = cookie_for("poster");
            auto r = measure(
                "POST /api/tickets",
                bench::run_closed_loop(port, 50, seconds, [&](long n, int step, std::string_view) {
                    return step ? std::string()
                                : bench::http_request("POST", "/api/tickets", poster,
                                                      R"({"title":"P)" + std::to_string(n) +
                                                          R"(","price":"12.50"})");
                }));
            r.rss_kib = server.rss_kib();
            rows.push_back(r);
        }
        // Dogpile: 1,000 buyers, each on a connection of its own opened beforehand, all asking for
        // the same ticket at once.
        if (want("dogpile")) {
            auto target = create_tickets(port, seller, 1, -1).at(0);
            std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let orders learn of it
            constexpr int buyers = 1000;
            std::vector<std::string> requests;
            for (int i = 0; i < buyers; ++i)
                requests.push_back(bench::http_request("POST", "/api/orders",
                                                       cookie_for("buyer" + std::to_string(i)),
                                                       R"({"ticketId":")" + target + R"("})"));
            auto res = bench::run_once_each(port, buyers, [&](long n, int step, std::string_view) {
                return step ? std::string() : requests[static_cast<std::size_t>(n)];
            });
            std::vector<double> refusals;
            long created = 0, other = 0;
            for (std::size_t i = 0; i < res.final_status.size(); ++i) {
                if (res.final_status[i] == 201)
                    ++created;
                else if (res.final_status[i] == 400)
                    refusals.push_back(res.latency_ms[i]);
                else
                    ++other;
            }
            Result row{"dogpile: 1,000 buyers, one ticket (refusals)",
                       static_cast<double>(res.units) / res.elapsed_s,
                       percentile(refusals, 0.5),
                       percentile(refusals, 0.99),
                       other,
                       server.rss_kib(),
                       ""};
            row.note = created == 1 ? "exactly one order: yes"
                                    : "exactly one order: NO (" + std::to_string(created) + ")";
            rows.push_back(row);
            if (want("refuse")) {  // the refusal path alone, closed loop (for profiling it)
                auto r =
                    measure("POST /api/orders on a reserved ticket",
                            bench::run_closed_loop(
                                port, 50, seconds, [&](long n, int step, std::string_view) {
                                    return step ? std::string()
                                                : requests[static_cast<std::size_t>(n % buyers)];
                                }));
                r.note = std::to_string(r.errors) + " refused (400), as they should be";
                r.errors = 0;
                rows.push_back(r);
            }
        }
        if (want("purchase")) {
            auto server_cpu0 = server.thread_cpu();
            auto client_cpu0 = cpu_seconds();
            auto flows = purchase_flows(port, seller, 40000, seconds);
            auto r = measure("purchase flow (reserve + pay), 16 buyers", flows);
            r.rss_kib = server.rss_kib();
            describe_cpu(r, server_cpu0, server.thread_cpu(), cpu_seconds() - client_cpu0,
                         r.rps * seconds);
            r.note += "; " + memory_note(metrics_port) + "; " + step_note(flows);
            rows.push_back(r);
        }
        server.stop();
        hello.stop();
        // Event propagation: order:created committed -> the ticket shows orderId (tickets.db).
        {
            SQLite::Database orders(data + "/orders.db");
            orders.exec("ATTACH '" + data + "/tickets.db' AS t");
            SQLite::Statement q(
                orders,
                "SELECT t.tickets.updated_at - orders.created_at FROM orders JOIN t.tickets"
                " ON t.tickets.order_id = orders.id");
            std::vector<double> delays;
            while (q.executeStep())
                delays.push_back(static_cast<double>(q.getColumn(0).getInt64()));
            Result row{"propagation: order committed -> ticket reserved",
                       0,
                       percentile(delays, 0.5),
                       percentile(delays, 0.99),
                       0,
                       0,
                       std::to_string(delays.size()) + " orders (ms resolution)"};
            rows.push_back(row);
        }
        print(rows);
    }

    // The bus alone: outbox -> log -> three subscribers, durable (synchronous=NORMAL, WAL).
    std::vector<Result> bus_rows;
    if (want("bus")) {
        bus_rows.push_back(bus_run(tmp / "bus-drain", BusMode::drain));
        bus_rows.push_back(bus_run(tmp / "bus-live", BusMode::concurrent));
        bus_rows.push_back(bus_run(tmp / "bus-paced", BusMode::paced));
    }
    // BENCH_SPLIT=1: the purchase flow through nginx against scripts/run-split (five processes, a
    // three-node NATS cluster, R3), and the bus scenarios through its cluster, in the same run.
    if (std::getenv("BENCH_SPLIT") && std::string(std::getenv("BENCH_SPLIT")) == "1" &&
        (want("purchase") || want("bus"))) {
        test::SplitDeployment split(std::string(TICKETD_SOURCE_DIR) + "/scripts/run-split",
                                    build + "/ticketd", tmp / "split",
                                    {{"JWT_KEY", jwt_key},
                                     {"TICKETD_ACCESS_LOG", "false"},
                                     {"TICKETD_LOG_LEVEL", "warn"},
                                     {"EXPIRATION_WINDOW_SECONDS", "900"}});
        split.start();
        std::vector<Result> split_rows;
        if (want("purchase")) {
            auto flows = purchase_flows(split.port(), cookie_for("seller"), 20000, seconds);
            auto r = measure("split: purchase flow via nginx + NATS R3, 16 buyers", flows);
            r.note = step_note(flows);
            split_rows.push_back(r);
        }
        if (want("bus")) {
            std::vector<std::string> nats;
            std::ifstream urls(split.dir() / "run" / "nats.urls");
            std::string line;
            std::getline(urls, line);
            for (std::size_t at = 0; at <= line.size();) {
                auto end = std::min(line.find(',', at), line.size());
                nats.push_back(line.substr(at, end - at));
                at = end + 1;
            }
            split_rows.push_back(bus_run(tmp / "split-bus-drain", BusMode::drain, nats));
            split_rows.push_back(bus_run(tmp / "split-bus-live", BusMode::concurrent, nats));
            split_rows.push_back(bus_run(tmp / "split-bus-paced", BusMode::paced, nats));
        }
        split.terminate();
        print(split_rows);
    }
    // Catch-up: a new subscriber replays 1,000,000 logged events.
    if (want("replay")) {
        auto dir = tmp / "replay";
        fs::create_directories(dir);
        db::Database log("bus", (dir / "bus.db").string());
        log.migrate({"bus"});
        {
            db::WriteTx tx(log);
            for (int i = 0; i < 1000000; ++i) {
                auto payload = json::serialize(json::value_from(
                    events::TicketCreated{"t" + std::to_string(i), 0, "Ticket " + std::to_string(i),
                                          1000 + i % 5000, "u"}));
                append_logged(tx, "ticket:created", payload);
            }
            tx.commit();
        }
        db::Database sub("probe", (dir / "sub.db").string());
        sub.migrate({"probe", "outbox"});
        bus::LocalBus bus(log);
        std::atomic<long> seen{0};
        bus.subscribe<events::TicketCreated>("bench.replay", sub,
                                             [&](db::WriteTx&, const events::TicketCreated&) {
                                                 ++seen;
                                                 return bus::Outcome::ack;
                                             });
        auto t0 = Clock::now();
        bus.start();
        bus.wait_idle(std::chrono::minutes(10));
        double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        bus_rows.push_back({"catch-up: new subscriber, 1,000,000 events",
                            static_cast<double>(seen) / elapsed, 0, 0, 1000000 - seen, 0,
                            "events/s"});
        bus.stop();
        // Start-up and idle memory with a 1,000,000-event log: a first run catches every module
        // up (the orders replica learns of a million tickets), then a second start is measured.
        auto big = (tmp / "big").string();
        fs::create_directories(big);
        fs::copy_file(dir / "bus.db", big + "/bus.db");
        auto p = free_port();
        auto mp = free_port();
        std::vector<std::string> argv{build + "/ticketd",
                                      "--port",
                                      std::to_string(p),
                                      "--host",
                                      "127.0.0.1",
                                      "--data-dir",
                                      big,
                                      "--threads",
                                      "1",
                                      "--access-log",
                                      "false",
                                      "--log-level",
                                      "warn",
                                      "--metrics-listen",
                                      "127.0.0.1:" + std::to_string(mp)};
        auto first = spawn(argv, p);
        auto c0 = Clock::now();
        wait_caught_up(mp);
        double catch_up_s = std::chrono::duration<double>(Clock::now() - c0).count();
        first.stop();
        auto s = spawn(argv, p);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        char n[128];
        std::snprintf(n, sizeof n, "start-up %.1f ms (modules caught up in %.1f s before)",
                      s.startup_ms, catch_up_s);
        bus_rows.push_back({"idle (1,000,000-event data dir)", 0, 0, 0, 0, s.rss_kib("VmRSS:"), n});
        s.stop();
    }
    if (!bus_rows.empty()) print(bus_rows);
    if (want("blog")) print(blog_bench(build, tmp, seconds));
    if (std::getenv("TICKETD_BENCH_KEEP"))
        std::printf("data kept in %s\n", tmp.c_str());
    else
        fs::remove_all(tmp);
    return 0;
}
