// `make bench`: starts a fresh ticketd on a free port, prepares data, runs each scenario with
// real sockets and prints one table (requests/s, p50, p99, errors, the server's peak RSS), with a
// bare Beast hello-world built with the same flags as the ceiling. Then measures the bus alone.
//
// Usage: ticketd_bench BUILD_DIR [seconds per scenario] [bus]   ("bus": only the bus figures)
#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/local_bus.hpp"
#include "db/database.hpp"
#include "http/session.hpp"
#include "support/http_client.hpp"
#include "ticketd/events/ticket_events.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"

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
    p.pid = fork();
    if (p.pid == 0) {
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        setenv("JWT_KEY", jwt_key.c_str(), 1);
        freopen("/dev/null", "w", stderr);
        execv(args[0], args.data());
        _exit(127);
    }
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
        bool behind = false;
        std::size_t at = 0;
        while ((at = body.find("\nticketd_subscriber_lag_events{", at)) != std::string::npos) {
            at = body.find("} ", at) + 2;
            if (body.compare(at, 2, "0\n") != 0) behind = true;
        }
        if (!behind) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::uint16_t free_port() {
    static std::uint16_t next = 20000 + static_cast<std::uint16_t>(getpid() % 20000);
    return next++;
}

std::string cookie_for(const std::string& user) {
    static util::SystemClock clock;
    static http::Sessions sessions(jwt_key, false, std::chrono::hours(24), clock);
    return util::base64_encode(json::serialize(json::object{{"jwt", sessions.issue(user, user + "@bench")}}));
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

// `connections` clients each run `request(client, i)` in a loop for `seconds`.
Result closed_loop(const std::string& name, std::uint16_t port, int connections, double seconds,
                   const std::function<int(test::HttpClient&, long)>& request,
                   const std::function<void(test::HttpClient&)>& setup = {}) {
    std::vector<std::vector<double>> lat(connections);
    std::atomic<long> errors{0}, total{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    std::barrier start(connections + 1);
    for (int c = 0; c < connections; ++c)
        threads.emplace_back([&, c] {
            test::HttpClient client(port);
            if (setup) setup(client);
            start.arrive_and_wait();
            for (long i = c; !stop; i += connections) {
                auto t0 = Clock::now();
                int status = 0;
                try {
                    status = request(client, i);
                } catch (const std::exception&) {
                    status = 0;
                }
                lat[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                if (status < 200 || status >= 300) ++errors;
                ++total;
            }
        });
    start.arrive_and_wait();
    auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : threads) t.join();
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> all;
    for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
    Result r{name, static_cast<double>(total) / elapsed, 0, 0, errors, 0, ""};
    r.p50_ms = percentile(all, 0.50);
    r.p99_ms = percentile(all, 0.99);
    return r;
}

std::string create_ticket(test::HttpClient& c, int i) {
    auto res = c.post("/api/tickets", R"({"title":"Bench )" + std::to_string(i) + R"(","price":10})");
    return std::string(json::parse(res.body).at("id").as_string());
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return sec(u.ru_utime) + sec(u.ru_stime);
}

std::int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
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
Result bus_run(const fs::path& dir, BusMode mode) {
    fs::create_directories(dir);
    db::Database log("bus", (dir / "bus.db").string());
    log.migrate({"bus"});
    db::Database pub("probe", (dir / "pub.db").string());
    pub.migrate({"probe", "outbox"});
    std::vector<std::unique_ptr<db::Database>> subs;
    for (int i = 0; i < 3; ++i) {
        subs.push_back(std::make_unique<db::Database>("probe", (dir / ("sub" + std::to_string(i) + ".db")).string()));
        subs.back()->migrate({"probe", "outbox"});
    }
    bus::LocalBus bus(log);
    bus.attach_outbox(pub);
    std::mutex m;
    std::vector<double> delays;
    for (int i = 0; i < 3; ++i)
        bus.subscribe<events::TicketCreated>("bench.sub" + std::to_string(i), *subs[i],
                                             [&, i](db::WriteTx&, const events::TicketCreated& e) {
                                                 if (i == 0) {
                                                     auto now = steady_us();
                                                     std::lock_guard lock(m);
                                                     delays.push_back(static_cast<double>(now - e.version) / 1000.0);
                                                 }
                                                 return bus::Outcome::ack;
                                             });
    const int events = mode == BusMode::paced ? 25000 : 200000;
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
    Result r{names[static_cast<int>(mode)], events / elapsed, percentile(delays, 0.5),
             percentile(delays, 0.99), idle ? events - static_cast<long>(delays.size()) : events, 0, ""};
    char note[128];
    std::snprintf(note, sizeof note, "events/s; %.1f us CPU per event%s", 1e6 * cpu / events,
                  mode == BusMode::paced ? "; p50/p99 = commit -> handler" : "");
    r.note = note;
    return r;
}

void print(const std::vector<Result>& rows) {
    std::printf("\n%-44s %12s %9s %9s %7s %10s  %s\n", "scenario", "req/s", "p50 ms", "p99 ms", "errors",
                "peak RSS", "");
    for (const auto& r : rows)
        std::printf("%-44s %12.0f %9.3f %9.3f %7ld %7ld KiB  %s\n", r.name.c_str(), r.rps, r.p50_ms,
                    r.p99_ms, r.errors, r.rss_kib, r.note.c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: ticketd_bench BUILD_DIR [seconds]\n");
        return 2;
    }
    std::string build = argv[1];
    double seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
    signal(SIGPIPE, SIG_IGN);
    auto tmp = fs::temp_directory_path() / ("ticketd-bench-" + std::to_string(getpid()));
    fs::create_directories(tmp);
    std::vector<Result> rows;
    bool bus_only = argc > 3 && std::string(argv[3]) == "bus";

    if (!bus_only) {
    // The ceiling: a bare Beast hello-world, one thread, like ticketd --threads 1 below.
    {
        auto port = free_port();
        auto hello = spawn({build + "/ticketd_hello", std::to_string(port), "1"}, port);
        auto r = closed_loop("hello-world (bare Beast, 1 thread)", port, 50, seconds,
                             [](test::HttpClient& c, long) { return c.get("/healthz").status; });
        r.rss_kib = hello.rss_kib();
        rows.push_back(r);
        hello.stop();
    }
    auto port = free_port();
    auto data = (tmp / "data").string();
    auto server = spawn({build + "/ticketd", "--port", std::to_string(port), "--host", "127.0.0.1",
                         "--data-dir", data, "--threads", "1", "--access-log", "false",
                         "--log-level", "warn", "--reservation-window", "900"},
                        port);
    Result idle{"idle (empty data dir)", 0, 0, 0, 0, server.rss_kib("VmRSS:"), ""};
    char note[96];
    std::snprintf(note, sizeof note, "start-up %.1f ms", server.startup_ms);
    idle.note = note;
    rows.push_back(idle);
    double hello_rps = rows[0].rps;
    auto vs_hello = [&](Result& r) {
        char n[64];
        std::snprintf(n, sizeof n, "%.0f%% of hello-world", 100.0 * r.rps / hello_rps);
        r.note = n;
    };

    test::HttpClient seller(port);
    seller.cookie = cookie_for("seller");
    {
        auto r = closed_loop("GET /healthz", port, 50, seconds,
                             [](test::HttpClient& c, long) { return c.get("/healthz").status; });
        vs_hello(r);
        r.rss_kib = server.rss_kib();
        rows.push_back(r);
    }
    // 10,000 listed tickets.
    std::vector<std::string> ids;
    for (int i = 0; i < 10000; ++i) ids.push_back(create_ticket(seller, i));
    {
        auto r = closed_loop("GET /api/tickets/:id", port, 50, seconds, [&](test::HttpClient& c, long i) {
            return c.get("/api/tickets/" + ids[static_cast<std::size_t>(i) % ids.size()]).status;
        });
        vs_hello(r);
        r.rss_kib = server.rss_kib();
        rows.push_back(r);
    }
    {
        auto r = closed_loop("GET /api/tickets (first page of 10,000)", port, 50, seconds,
                             [](test::HttpClient& c, long) { return c.get("/api/tickets").status; });
        vs_hello(r);
        r.rss_kib = server.rss_kib();
        rows.push_back(r);
    }
    {
        auto r = closed_loop(
            "POST /api/tickets", port, 50, seconds,
            [](test::HttpClient& c, long i) {
                return c.post("/api/tickets", R"({"title":"P)" + std::to_string(i) + R"(","price":"12.50"})").status;
            },
            [](test::HttpClient& c) { c.cookie = cookie_for("poster"); });
        r.rss_kib = server.rss_kib();
        rows.push_back(r);
    }
    // Dogpile: 1,000 concurrent buyers on one ticket.
    {
        auto target = create_ticket(seller, -1);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let orders learn of it
        constexpr int buyers = 1000;
        std::vector<std::unique_ptr<test::HttpClient>> clients;
        for (int i = 0; i < buyers; ++i) {
            clients.push_back(std::make_unique<test::HttpClient>(port));
            clients.back()->cookie = cookie_for("buyer" + std::to_string(i));
            clients.back()->get("/healthz");
        }
        std::vector<double> refusals(buyers, -1);
        std::atomic<int> created{0}, other{0};
        std::barrier start(buyers);
        std::vector<std::thread> threads;
        auto t0 = Clock::now();
        for (int i = 0; i < buyers; ++i)
            threads.emplace_back([&, i] {
                start.arrive_and_wait();
                auto s = Clock::now();
                auto res = clients[i]->post("/api/orders", R"({"ticketId":")" + target + R"("})");
                double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
                if (res.status == 201) ++created;
                else if (res.status == 400) refusals[i] = ms;
                else ++other;
            });
        for (auto& t : threads) t.join();
        double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        std::vector<double> r;
        for (double v : refusals)
            if (v >= 0) r.push_back(v);
        Result row{"dogpile: 1,000 buyers, one ticket (refusals)", buyers / elapsed, percentile(r, 0.5),
                   percentile(r, 0.99), other, server.rss_kib(), ""};
        row.note = created == 1 ? "exactly one order: yes" : "exactly one order: NO (" + std::to_string(created.load()) + ")";
        rows.push_back(row);
    }
    // Complete purchases (reserve + pay) with 16 concurrent buyers, each on tickets of its own.
    {
        std::vector<std::string> stock;
        for (int i = 0; i < 40000; ++i) stock.push_back(create_ticket(seller, 100000 + i));
        std::this_thread::sleep_for(std::chrono::seconds(2));  // the orders replica catches up
        std::atomic<std::size_t> next{0};
        auto r = closed_loop(
            "purchase flow (reserve + pay), 16 buyers", port, 16, seconds,
            [&](test::HttpClient& c, long) {
                auto n = next++;
                if (n >= stock.size()) return 0;
                auto order = c.post("/api/orders", R"({"ticketId":")" + stock[n] + R"("})");
                if (order.status != 201) return order.status;
                std::string order_id(json::parse(order.body).at("id").as_string());
                for (int attempt = 0; attempt < 1000; ++attempt) {
                    auto paid = c.post("/api/payments", R"({"token":"tok_visa","orderId":")" + order_id + R"("})");
                    if (paid.status != 404) return paid.status;  // 404: payments has not heard of it yet
                    std::this_thread::yield();
                }
                return 0;
            },
            [](test::HttpClient& c) { c.cookie = cookie_for("flow-buyer"); });
        r.rss_kib = server.rss_kib();
        rows.push_back(r);
    }
    server.stop();
    // Event propagation: order:created committed -> the ticket shows orderId (tickets.db).
    {
        SQLite::Database orders(data + "/orders.db");
        orders.exec("ATTACH '" + data + "/tickets.db' AS t");
        SQLite::Statement q(orders,
                            "SELECT t.tickets.updated_at - orders.created_at FROM orders JOIN t.tickets"
                            " ON t.tickets.order_id = orders.id");
        std::vector<double> delays;
        while (q.executeStep()) delays.push_back(static_cast<double>(q.getColumn(0).getInt64()));
        Result row{"propagation: order committed -> ticket reserved", 0, percentile(delays, 0.5),
                   percentile(delays, 0.99), 0, 0, std::to_string(delays.size()) + " orders (ms resolution)"};
        rows.push_back(row);
    }
    print(rows);
    }

    // The bus alone: outbox -> log -> three subscribers, durable (synchronous=NORMAL, WAL).
    std::vector<Result> bus_rows;
    bus_rows.push_back(bus_run(tmp / "bus-drain", BusMode::drain));
    bus_rows.push_back(bus_run(tmp / "bus-live", BusMode::concurrent));
    bus_rows.push_back(bus_run(tmp / "bus-paced", BusMode::paced));
    // Catch-up: a new subscriber replays 1,000,000 logged events.
    {
        auto dir = tmp / "replay";
        fs::create_directories(dir);
        db::Database log("bus", (dir / "bus.db").string());
        log.migrate({"bus"});
        {
            db::WriteTx tx(log);
            for (int i = 0; i < 1000000; ++i) {
                auto payload = json::serialize(json::value_from(
                    events::TicketCreated{"t" + std::to_string(i), 0, "Ticket " + std::to_string(i), 1000 + i % 5000, "u"}));
                auto& ins = tx.statement(
                    "INSERT INTO events (event_id, subject, payload, source, created_at, logged_at)"
                    " VALUES (?, 'ticket:created', ?, 'bench', 0, 0)");
                ins.bind(1, util::time_ordered_id());
                ins.bind(2, payload);
                ins.exec();
            }
            tx.commit();
        }
        db::Database sub("probe", (dir / "sub.db").string());
        sub.migrate({"probe", "outbox"});
        bus::LocalBus bus(log);
        std::atomic<long> seen{0};
        bus.subscribe<events::TicketCreated>("bench.replay", sub, [&](db::WriteTx&, const events::TicketCreated&) {
            ++seen;
            return bus::Outcome::ack;
        });
        auto t0 = Clock::now();
        bus.start();
        bus.wait_idle(std::chrono::minutes(10));
        double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        bus_rows.push_back({"catch-up: new subscriber, 1,000,000 events", static_cast<double>(seen) / elapsed, 0, 0,
                            1000000 - seen, 0, "events/s"});
        bus.stop();
        // Start-up and idle memory with a 1,000,000-event log: a first run catches every module
        // up (the orders replica learns of a million tickets), then a second start is measured.
        auto big = (tmp / "big").string();
        fs::create_directories(big);
        fs::copy_file(dir / "bus.db", big + "/bus.db");
        auto p = free_port();
        std::vector<std::string> argv{build + "/ticketd", "--port", std::to_string(p), "--host", "127.0.0.1",
                                      "--data-dir", big, "--threads", "1", "--access-log", "false",
                                      "--log-level", "warn"};
        auto first = spawn(argv, p);
        auto c0 = Clock::now();
        wait_caught_up(p);
        double catch_up_s = std::chrono::duration<double>(Clock::now() - c0).count();
        first.stop();
        auto s = spawn(argv, p);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        char n[128];
        std::snprintf(n, sizeof n, "start-up %.1f ms (modules caught up in %.1f s before)", s.startup_ms, catch_up_s);
        bus_rows.push_back({"idle (1,000,000-event data dir)", 0, 0, 0, 0, s.rss_kib("VmRSS:"), n});
        s.stop();
    }
    print(bus_rows);
    fs::remove_all(tmp);
    return 0;
}
