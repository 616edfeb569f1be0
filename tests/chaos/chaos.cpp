// Crash testing: many concurrent buyers and sellers (orders, payments, cancels, expiries with a
// short window) against a real ticketd that is killed with SIGKILL at random moments and
// restarted on the same data directory. When the load stops and the bus is idle, the databases
// and the API must show that nothing acknowledged was lost and no invariant was broken.
//
// With --power-cuts, each kill is a power cut: the binary must be ticketd_powercut (ticketd over
// the undo VFS), and after the kill every database file independently loses what it had not
// synced, or keeps only a prefix of it, torn (apply_power_cut). Before the restart, every write
// acknowledged long enough before the cut must be there: all of them in --durability full, those
// older than the documented bound (1 s) in normal. Younger ones may be gone; the ledger forgets
// those, and the cross-database invariants must hold at the end regardless.
//
// With --split, the same load and checks run against scripts/run-split (one process per module
// over a three-node NATS JetStream cluster behind nginx): module processes and NATS nodes are
// killed with SIGKILL and the script starts them again.
//
// Usage: ticketd_chaos PATH/TO/ticketd [--kills N] [--power-cuts N] [--durability normal|full]
//                      [--workers N] [--split scripts/run-split [--nats-kills N]]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>

#include "http/session.hpp"
#include "powercut/undo_vfs.hpp"
#include "support/child_server.hpp"
#include "support/http_client.hpp"
#include "support/split_deployment.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

using namespace ticketd;
namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::string jwt_key = "chaos-signing-key-0123456789abcdef0123456789";
constexpr int window_seconds = 2;

std::string cookie_for(const std::string& user) {
    static util::SystemClock clock;
    static http::Sessions sessions(jwt_key, false, std::chrono::hours(24), clock);
    return util::base64_encode(
        json::serialize(json::object{{"jwt", sessions.issue(user, user + "@chaos")}}));
}

// What the driver saw acknowledged (a 2xx answer), and when the answer came.
struct Ledger {
    using Acked = std::map<std::string, Clock::time_point>;
    std::mutex m;
    std::vector<std::string> tickets;  // listed, to pick from
    Acked ticket_acks;
    Acked orders;
    Acked paid_orders;  // payment answered 201
    Acked cancelled;    // DELETE answered 204
    // Waiting-list joins answered 201, by "ticket|user", and when each was sent (unix ms): a join
    // ends in the line, in an order handed to that user, or cleared by the ticket's sale.
    Acked joins;
    std::map<std::string, long long> join_sent_ms;
    Acked relists;  // resales answered 200, by ticket
    std::atomic<long> requests{0}, acked{0}, failed{0};
    long lost_within_bound = 0;  // power cuts: acknowledged too recently to be kept
};

long long ms(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string field(const std::string& body, const char* key) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object() || !v.as_object().contains(key)) return {};
    return std::string(v.at(key).as_string());
}

long long unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Each worker is one user who sells, buys, pays, cancels, waits in line for reserved tickets
// (and pays for what the line hands over), and resells what they bought.
void worker(int id, std::uint16_t port, Ledger& ledger, std::atomic<bool>& stop) {
    std::mt19937 rng(static_cast<unsigned>(id * 7919 + 1));
    test::HttpClient c(port);
    const std::string user = "user" + std::to_string(id);
    c.cookie = cookie_for(user);
    std::vector<std::string> my_orders;
    std::map<std::string, std::string> ticket_of;  // my orders' tickets
    std::vector<std::string> bought;               // tickets I paid for, to resell
    auto pick_ticket = [&]() -> std::string {
        std::lock_guard lock(ledger.m);
        return ledger.tickets.empty() ? std::string()
                                      : ledger.tickets[rng() % ledger.tickets.size()];
    };
    while (!stop) {
        int what = static_cast<int>(rng() % 20);
        ++ledger.requests;
        try {
            if (what < 6) {
                auto res = c.post("/api/tickets", R"({"title":"chaos","price":)" +
                                                      std::to_string(1 + rng() % 500) + "}");
                if (res.status == 201) {
                    std::lock_guard lock(ledger.m);
                    ledger.tickets.push_back(field(res.body, "id"));
                    ledger.ticket_acks[ledger.tickets.back()] = Clock::now();
                    ++ledger.acked;
                }
            } else if (what < 13) {
                auto ticket = pick_ticket();
                if (ticket.empty()) continue;
                auto res = c.post("/api/orders", R"({"ticketId":")" + ticket + R"("})");
                if (res.status == 201) {
                    auto order = field(res.body, "id");
                    my_orders.push_back(order);
                    ticket_of[order] = ticket;
                    std::lock_guard lock(ledger.m);
                    ledger.orders[order] = Clock::now();
                    ++ledger.acked;
                }
            } else if (what < 16) {
                if (my_orders.empty()) continue;
                auto order = my_orders[rng() % my_orders.size()];
                auto res =
                    c.post("/api/payments", R"({"token":"tok_visa","orderId":")" + order + R"("})");
                if (res.status == 201) {
                    if (bought.size() < 50) bought.push_back(ticket_of[order]);
                    std::lock_guard lock(ledger.m);
                    ledger.paid_orders[order] = Clock::now();
                    ++ledger.acked;
                }
            } else if (what == 16) {
                auto ticket = pick_ticket();
                if (ticket.empty()) continue;
                auto sent = unix_ms();
                auto res = c.post("/api/tickets/" + ticket + "/waitlist", "");
                if (res.status == 201) {
                    std::lock_guard lock(ledger.m);
                    ledger.joins[ticket + "|" + user] = Clock::now();
                    ledger.join_sent_ms[ticket + "|" + user] = sent;
                    ++ledger.acked;
                }
            } else if (what == 17) {
                if (bought.empty()) continue;
                auto at = rng() % bought.size();
                auto res = c.post("/api/tickets/" + bought[at] + "/resale", R"({"price":1})");
                if (res.status == 200) {
                    std::lock_guard lock(ledger.m);
                    ledger.relists[bought[at]] = Clock::now();
                    ++ledger.acked;
                }
                // 400 "Ticket is not sold" while the sale has not reached tickets: try again later.
                if (res.status == 200 || res.status == 401)
                    bought.erase(bought.begin() + static_cast<long>(at));
            } else if (what == 18) {
                // Orders the waiting list handed me: mine to pay or cancel like my own.
                auto res = c.get("/api/orders");
                if (res.status != 200) continue;
                auto list = json::parse(res.body);
                for (auto& o : list.as_array()) {
                    auto order = std::string(o.at("id").as_string());
                    if (o.at("status") != "created" || ticket_of.count(order)) continue;
                    my_orders.push_back(order);
                    ticket_of[order] = std::string(o.at("ticket").at("id").as_string());
                    std::lock_guard lock(ledger.m);
                    ledger.orders[order] = Clock::now();
                }
            } else {
                if (my_orders.empty()) continue;
                auto order = my_orders[rng() % my_orders.size()];
                auto res = c.del("/api/orders/" + order);
                if (res.status == 204) {
                    std::lock_guard lock(ledger.m);
                    ledger.cancelled[order] = Clock::now();
                    ++ledger.acked;
                }
            }
        } catch (const std::exception&) {
            ++ledger.failed;  // the server was down: nothing was acknowledged
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
}

long query(SQLite::Database& db, const std::string& sql) {
    SQLite::Statement q(db, sql);
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

// Right after a power cut at `cut`, with the server down: every write acknowledged before
// `cut - bound` is on disk; younger ones that are gone are forgotten. Returns the violations.
int check_after_cut(const fs::path& dir, Ledger& ledger, Clock::time_point cut,
                    Clock::duration bound) {
    std::lock_guard lock(ledger.m);
    int violations = 0;
    // `sql` takes the ledger's key as ?1 and, when `sent_ms` is given, the time it was sent as ?2.
    auto check = [&](const char* what, Ledger::Acked& acked, const fs::path& db,
                     const std::string& sql,
                     const std::map<std::string, long long>* sent_ms = nullptr) {
        SQLite::Database conn(db);
        for (auto it = acked.begin(); it != acked.end();) {
            SQLite::Statement q(conn, sql);
            q.bind(1, it->first);
            if (sent_ms) q.bind(2, static_cast<std::int64_t>(sent_ms->at(it->first)));
            if (q.executeStep()) {
                ++it;
                continue;
            }
            if (it->second < cut - bound) {
                ++violations;
                std::printf("VIOLATION: %s acknowledged %lld ms before the power cut is gone: %s\n",
                            what, ms(cut - it->second), it->first.c_str());
            }
            ++ledger.lost_within_bound;
            it = acked.erase(it);
        }
    };
    check("a ticket", ledger.ticket_acks, dir / "tickets.db", "SELECT 1 FROM tickets WHERE id = ?");
    std::erase_if(ledger.tickets, [&](auto& id) { return !ledger.ticket_acks.count(id); });
    check("an order", ledger.orders, dir / "orders.db", "SELECT 1 FROM orders WHERE id = ?");
    check("a payment", ledger.paid_orders, dir / "payments.db",
          "SELECT 1 FROM payments WHERE order_id = ?");
    check("a cancellation", ledger.cancelled, dir / "orders.db",
          "SELECT 1 FROM orders WHERE id = ? AND status = 'cancelled'");
    // In line, handed over (an order of that user for that ticket since the join), or cleared by
    // a sale since the join: the same test as the final invariant, so that a young join the cut
    // took is forgotten here even when the user had an older order for that ticket.
    check("a waiting-list join", ledger.joins, dir / "orders.db",
          "SELECT 1 FROM waitlist WHERE ticket_id || '|' || user_id = ?1 UNION ALL SELECT 1 FROM "
          "orders"
          " WHERE ticket_id || '|' || user_id = ?1 AND created_at >= ?2 UNION ALL SELECT 1 FROM "
          "orders"
          " WHERE status = 'complete' AND ?1 LIKE ticket_id || '|%' AND updated_at >= ?2",
          &ledger.join_sent_ms);
    std::erase_if(ledger.join_sent_ms, [&](auto& j) { return !ledger.joins.count(j.first); });
    check("a resale", ledger.relists, dir / "tickets.db",
          "SELECT 1 FROM ticket_history WHERE ticket_id = ? AND event = 'relisted'");
    return violations;
}

// A quiet server: one sign-up, one ticket and one order, then nothing. A power cut a little more
// than the bound later must find all three (no commit waits for the next busy moment to be
// synced). Returns the violations.
int check_quiet_writes_survive(test::ChildServer& server, const fs::path& dir, std::mt19937& rng,
                               Clock::duration bound) {
    test::HttpClient c(server.port());
    auto signup =
        c.post("/api/users/signup", R"({"email":"quiet@example.com","password":"secret-quiet"})");
    auto ticket = c.post("/api/tickets", R"({"title":"quiet","price":5})");
    auto ticket_id = field(ticket.body, "id");
    test::HttpResponse order;
    for (int i = 0; i < 100 && order.status != 201; ++i)
        order = c.post("/api/orders", R"({"ticketId":")" + ticket_id + R"("})");
    if (signup.status != 201 || ticket.status != 201 || order.status != 201) {
        std::printf("VIOLATION: the quiet writes were refused (%d %d %d)\n", signup.status,
                    ticket.status, order.status);
        return 1;
    }
    std::this_thread::sleep_for(bound + std::chrono::milliseconds(200));
    server.kill9();
    auto cut = test::apply_power_cut(dir, rng, true);
    std::printf("quiet server: %lld unsynced writes lost by the cut\n",
                static_cast<long long>(cut.undone));
    int violations = 0;
    auto exists = [&](const char* db, const std::string& sql, const std::string& what) {
        SQLite::Database conn(dir / db);
        SQLite::Statement q(conn, sql);
        if (!q.executeStep()) {
            ++violations;
            std::printf(
                "VIOLATION: on a quiet server, %s was lost by a power cut after the bound\n",
                what.c_str());
        }
    };
    exists("auth.db", "SELECT 1 FROM users WHERE email = 'quiet@example.com'", "a sign-up");
    exists("tickets.db", "SELECT 1 FROM tickets WHERE id = '" + ticket_id + "'", "a ticket");
    exists("orders.db", "SELECT 1 FROM orders WHERE id = '" + field(order.body, "id") + "'",
           "an order");
    server.start();
    return violations;
}

enum class Layout { one_process, split };

// Waits (up to a minute) until no subscriber lags, no outbox holds rows and no reservation waits
// to expire, as the processes' /metrics tell.
void settle(const std::vector<std::uint16_t>& metrics_ports) {
    for (int i = 0; i < 600; ++i) {
        std::string m;
        for (auto port : metrics_ports) {
            try {
                m += "\n" + test::HttpClient(port).get("/metrics").body;
            } catch (const std::exception&) {
                m += "\nticketd_outbox_pending{unreachable} 1";
            }
        }
        bool busy = false;
        std::size_t pos = 0;
        // Sample lines only ("\nname"), not the HELP/TYPE lines that mention the name.
        for (auto name : {"\nticketd_subscriber_lag_events{", "\nticketd_outbox_pending{",
                          "\nticketd_expiration_jobs_pending "}) {
            pos = 0;
            while ((pos = m.find(name, pos)) != std::string::npos) {
                auto line_end = m.find('\n', pos + 1);
                if (line_end == std::string::npos) line_end = m.size();
                auto value =
                    m.substr(m.rfind(' ', line_end) + 1, line_end - m.rfind(' ', line_end) - 1);
                if (value != "0") busy = true;
                pos = line_end;
            }
        }
        if (!busy) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

// With everything stopped: nothing acknowledged is missing and every cross-database invariant
// holds. Returns the violations; `events` gets the number of logged events (in-process only).
int check_at_rest(const fs::path& dir, Ledger& ledger, Layout layout, long& events) {
    int violations = 0;
    auto violation = [&](const std::string& what, long n) {
        if (n == 0) return;
        ++violations;
        std::printf("VIOLATION: %s (%ld)\n", what.c_str(), n);
    };
    auto path = [&](const std::string& name) {
        return (layout == Layout::split ? dir / name / (name + ".db") : dir / (name + ".db"))
            .string();
    };
    SQLite::Database orders(path("orders"));
    orders.exec("ATTACH '" + path("tickets") + "' AS t");
    orders.exec("ATTACH '" + path("payments") + "' AS p");
    orders.exec("ATTACH '" + path("expiration") + "' AS x");
    violation("a ticket held by two orders (active, or complete and not relisted)",
              query(orders,
                    "SELECT count(*) FROM (SELECT ticket_id FROM orders WHERE status != "
                    "'cancelled' AND released = 0"
                    " GROUP BY ticket_id HAVING count(*) > 1)"));
    auto missing = [&](const char* table, const std::vector<std::string>& ids) {
        long n = 0;
        for (const auto& id : ids) {
            SQLite::Statement q(orders, std::string("SELECT 1 FROM ") + table + " WHERE id = ?");
            q.bind(1, id);
            if (!q.executeStep()) ++n;
        }
        return n;
    };
    violation("acknowledged tickets missing", missing("t.tickets", ledger.tickets));
    std::vector<std::string> order_ids;
    for (const auto& [o, at] : ledger.orders) order_ids.push_back(o);
    violation("acknowledged orders missing", missing("orders", order_ids));
    long unpaid = 0;
    for (const auto& [o, at] : ledger.paid_orders) {
        SQLite::Statement q(
            orders, "SELECT status = 'complete' OR refund_id IS NOT NULL FROM orders WHERE id = ?");
        q.bind(1, o);
        if (!q.executeStep() || q.getColumn(0).getInt() == 0) ++unpaid;
        SQLite::Statement pq(orders, "SELECT count(*) FROM p.payments WHERE order_id = ?");
        pq.bind(1, o);
        if (!pq.executeStep() || pq.getColumn(0).getInt() != 1) ++unpaid;
    }
    violation("paid orders neither complete nor refunded", unpaid);
    long not_cancelled = 0;
    for (const auto& [o, at] : ledger.cancelled) {
        SQLite::Statement q(orders, "SELECT status FROM orders WHERE id = ?");
        q.bind(1, o);
        if (!q.executeStep() || q.getColumn(0).getString() != "cancelled") ++not_cancelled;
    }
    violation("acknowledged cancellations not cancelled", not_cancelled);
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    violation(
        "due reservations not expired",
        query(orders, "SELECT count(*) FROM orders WHERE status = 'created' AND expires_at < " +
                          std::to_string(now_ms - 500)));
    violation("money kept for a cancelled order",
              query(orders,
                    "SELECT count(*) FROM p.payments JOIN orders ON orders.id = p.payments.order_id"
                    " WHERE orders.status = 'cancelled' AND p.payments.refund_status != 'done'"));
    violation("tickets whose replica disagrees",
              query(orders,
                    "SELECT count(*) FROM t.tickets tt LEFT JOIN main.tickets r ON r.id = tt.id"
                    " WHERE r.id IS NULL OR r.version != tt.version OR r.user_id != tt.user_id"
                    " OR coalesce(r.order_id, '') != coalesce(tt.order_id, '')"));
    // Each ticket is held by the one order orders counts as holding it (not cancelled, not
    // released by a relisting), or by none; no reservation is left waiting for a cancellation.
    violation("tickets not held by their active order",
              query(orders,
                    "SELECT count(*) FROM t.tickets tt WHERE coalesce(tt.order_id, '') !="
                    " coalesce((SELECT o.id FROM orders o WHERE o.ticket_id = tt.id"
                    " AND o.status != 'cancelled' AND o.released = 0), '')"));
    violation("reservations still waiting in tickets",
              query(orders, "SELECT count(*) FROM t.waiting_reservations"));
    // A completed order passes its ticket to the buyer, until they relist it; each sale and each
    // relisting is one history entry, each sale at the price the buyer paid.
    violation("'sold' entries at a price no completed order of the ticket paid",
              query(orders,
                    "SELECT count(*) FROM t.ticket_history h WHERE h.event = 'sold' AND NOT EXISTS"
                    " (SELECT 1 FROM orders o WHERE o.ticket_id = h.ticket_id"
                    " AND o.status = 'complete' AND o.price_cents = h.price_cents)"));
    violation("completed orders whose ticket is not the buyer's",
              query(orders,
                    "SELECT count(*) FROM orders o JOIN t.tickets tt ON tt.id = o.ticket_id WHERE "
                    "o.status ="
                    " 'complete' AND o.released = 0 AND (tt.user_id != o.user_id OR tt.order_id IS "
                    "NOT o.id)"));
    violation(
        "tickets whose 'sold' entries are not their completed orders",
        query(
            orders,
            "SELECT count(*) FROM t.tickets tt WHERE (SELECT count(*) FROM t.ticket_history h WHERE"
            " h.ticket_id = tt.id AND h.event = 'sold') != (SELECT count(*) FROM orders o WHERE"
            " o.ticket_id = tt.id AND o.status = 'complete')"));
    violation(
        "tickets whose 'relisted' entries are not their released orders",
        query(
            orders,
            "SELECT count(*) FROM t.tickets tt WHERE (SELECT count(*) FROM t.ticket_history h WHERE"
            " h.ticket_id = tt.id AND h.event = 'relisted') != (SELECT count(*) FROM orders o WHERE"
            " o.ticket_id = tt.id AND o.released = 1)"));
    long relists_missing = 0;
    for (const auto& [ticket, at] : ledger.relists) {
        SQLite::Statement q(
            orders, "SELECT 1 FROM t.ticket_history WHERE ticket_id = ? AND event = 'relisted'");
        q.bind(1, ticket);
        if (!q.executeStep()) ++relists_missing;
    }
    violation("acknowledged resales missing", relists_missing);
    // The waiting list: a line only behind a reservation, never holding the reservation's own
    // buyer, and every acknowledged join in line, handed over, or cleared by a sale after it.
    violation(
        "a line behind a ticket no reservation holds",
        query(orders,
              "SELECT count(DISTINCT w.ticket_id) FROM waitlist w WHERE NOT EXISTS (SELECT 1 FROM "
              "orders o"
              " WHERE o.ticket_id = w.ticket_id AND o.status IN ('created', 'awaiting:payment'))"));
    violation("a buyer in line for the ticket their own order holds",
              query(orders,
                    "SELECT count(*) FROM waitlist w JOIN orders o ON o.ticket_id = w.ticket_id "
                    "AND o.user_id ="
                    " w.user_id WHERE o.status != 'cancelled' AND o.released = 0"));
    long joins_lost = 0;
    for (const auto& [key, sent] : ledger.join_sent_ms) {
        auto bar = key.find('|');
        SQLite::Statement q(
            orders,
            "SELECT EXISTS (SELECT 1 FROM waitlist WHERE ticket_id = ?1 AND user_id = ?2)"
            " OR EXISTS (SELECT 1 FROM orders WHERE ticket_id = ?1 AND user_id = ?2 AND created_at "
            ">= ?3)"
            " OR EXISTS (SELECT 1 FROM orders WHERE ticket_id = ?1 AND status = 'complete'"
            " AND updated_at >= ?3)");
        q.bind(1, key.substr(0, bar));
        q.bind(2, key.substr(bar + 1));
        q.bind(3, static_cast<std::int64_t>(sent));
        if (!q.executeStep() || q.getColumn(0).getInt() == 0) ++joins_lost;
    }
    violation("acknowledged waiting-list joins lost", joins_lost);
    long outbox = 0, inbox_gaps = 0, behind = 0, dead = 0;
    for (std::string name : {"auth", "tickets", "orders", "expiration", "payments"}) {
        SQLite::Database db(path(name));
        outbox += query(db, "SELECT count(*) FROM outbox");
        if (layout == Layout::split) {
            // Each process keeps its own dead letters; the log is the JetStream stream.
            SQLite::Database bus((dir / name / "bus.db").string());
            dead += query(bus, "SELECT count(*) FROM dead_letters");
            continue;
        }
        db.exec("ATTACH '" + (dir / "bus.db").string() + "' AS b");
        dead += query(db, "SELECT count(*) FROM b.dead_letters");
        behind += query(
            db,
            "SELECT count(*) FROM bus_positions p JOIN b.cursors c ON c.subscriber = p.subscriber"
            " WHERE p.position < (SELECT coalesce(max(seq), 0) FROM b.events e WHERE e.subject = "
            "c.subject)");
        // Every logged event of a subscriber's subject is in its inbox, exactly once.
        inbox_gaps +=
            query(db,
                  "SELECT count(*) FROM b.cursors c JOIN b.events e ON e.subject = c.subject"
                  " WHERE c.subscriber LIKE '" +
                      std::string(name) +
                      ".%' AND NOT EXISTS"
                      " (SELECT 1 FROM inbox i WHERE i.subscriber = c.subscriber AND i.event_id = "
                      "e.event_id)");
    }
    violation("subscribers behind the log head", behind);
    violation("outbox rows left", outbox);
    violation("logged events missing from a subscriber's inbox", inbox_gaps);
    violation("dead letters", dead);
    if (layout == Layout::one_process) {
        SQLite::Database bus((dir / "bus.db").string());
        events = query(bus, "SELECT count(*) FROM events");
    }
    return violations;
}

// Runs the load with its kills (or power cuts), then checks; returns the number of violations.
int run(const std::string& binary, const fs::path& dir, int kills, int power_cuts,
        const std::string& durability, int workers) {
    // The same ports serve every restart, so the workers' clients find the server again.
    auto metrics_port = test::pick_stable_port();
    test::ChildServer server(
        binary, dir.string(),
        {"--reservation-window", std::to_string(window_seconds), "--durability", durability,
         "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)},
        {{"JWT_KEY", jwt_key}});
    server.start();
    std::mt19937 rng(42);
    // The documented bound: in normal mode a commit is synced at most about a second after it
    // was acknowledged (docs/operations.md).
    auto bound = durability == "full" ? Clock::duration::zero() : std::chrono::seconds(1);
    int violations = power_cuts > 0 ? check_quiet_writes_survive(server, dir, rng, bound) : 0;

    Ledger ledger;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w)
        threads.emplace_back(worker, w, server.port(), std::ref(ledger), std::ref(stop));
    for (int k = 0; k < kills; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 800));
        server.kill9();
        server.start();
    }
    test::PowerCutReport cuts;
    for (int k = 0; k < power_cuts; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500 + rng() % 1500));
        auto cut = Clock::now();
        server.kill9();
        auto r = test::apply_power_cut(dir, rng);
        cuts.files += r.files;
        cuts.writes += r.writes;
        cuts.undone += r.undone;
        cuts.torn += r.torn;
        if (r.longest_unsynced > cuts.longest_unsynced) {
            cuts.longest_unsynced = r.longest_unsynced;
            cuts.longest_unsynced_file = r.longest_unsynced_file;
        }
        if (int found = check_after_cut(dir, ledger, cut, bound); found > 0) {
            violations += found;
            std::printf("this cut: %s had gone longest unsynced, %lld ms\n",
                        r.longest_unsynced_file.c_str(),
                        static_cast<long long>(ms(r.longest_unsynced)));
        }
        server.start();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
    for (auto& t : threads) t.join();

    // Let every reservation fall due and the bus settle, then stop cleanly and look inside.
    std::this_thread::sleep_for(std::chrono::seconds(window_seconds + 1));
    settle({metrics_port});
    server.terminate();
    long events = 0;
    violations += check_at_rest(dir, ledger, Layout::one_process, events);

    std::printf(
        "chaos: kills=%d requests=%ld acknowledged=%ld refused-while-down=%ld tickets=%zu "
        "orders=%zu "
        "paid=%zu cancelled=%zu joins=%zu resales=%zu events=%ld violations=%d\n",
        kills, ledger.requests.load(), ledger.acked.load(), ledger.failed.load(),
        ledger.tickets.size(), ledger.orders.size(), ledger.paid_orders.size(),
        ledger.cancelled.size(), ledger.joins.size(), ledger.relists.size(), events, violations);
    if (power_cuts > 0)
        std::printf(
            "power cuts: %d in %s mode; files with unsynced writes %d, such writes %lld, undone "
            "%lld, "
            "torn %d; acknowledged writes lost within the bound %ld; longest a log went unsynced "
            "%lld ms "
            "(%s)\n",
            power_cuts, durability.c_str(), cuts.files, static_cast<long long>(cuts.writes),
            static_cast<long long>(cuts.undone), cuts.torn, ledger.lost_within_bound,
            static_cast<long long>(ms(cuts.longest_unsynced)), cuts.longest_unsynced_file.c_str());
    return violations;
}

// The same load against the split deployment: SIGKILLs of random module processes and of NATS
// nodes (one at a time, the cluster keeps a majority), then the same checks at rest.
int run_split(const std::string& script, const std::string& binary, const fs::path& dir, int kills,
              int nats_kills, int workers) {
    test::SplitDeployment split(script, binary, dir,
                                {{"JWT_KEY", jwt_key},
                                 {"EXPIRATION_WINDOW_SECONDS", std::to_string(window_seconds)},
                                 {"TICKETD_ACCESS_LOG", "false"}});
    split.start();
    std::mt19937 rng(42);
    Ledger ledger;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w)
        threads.emplace_back(worker, w, split.port(), std::ref(ledger), std::ref(stop));
    const std::vector<std::string> modules = {"auth", "tickets", "orders", "expiration",
                                              "payments"};
    std::vector<std::string> plan;
    for (int k = 0; k < kills; ++k) plan.push_back(modules[rng() % modules.size()]);
    for (int k = 0; k < nats_kills; ++k)
        plan.insert(plan.begin() + static_cast<std::ptrdiff_t>(rng() % (plan.size() + 1)),
                    "nats-" + std::to_string(1 + rng() % 3));
    for (const auto& name : plan) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1200));
        std::printf("chaos: SIGKILL %s\n", name.c_str());
        std::fflush(stdout);
        split.kill9(name);
        // A NATS node comes back and catches up before the next kill, so that the cluster never
        // loses its majority; a module process is back within a second.
        if (name.starts_with("nats-")) std::this_thread::sleep_for(std::chrono::seconds(3));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    stop = true;
    for (auto& t : threads) t.join();
    std::this_thread::sleep_for(std::chrono::seconds(window_seconds + 1));
    settle(split.metrics_ports());
    int status = split.terminate();
    int violations = 0;
    if (status != 0) {
        ++violations;
        std::printf("VIOLATION: scripts/run-split exited %d on SIGTERM\n", status);
    }
    long events = 0;
    violations += check_at_rest(dir, ledger, Layout::split, events);
    std::printf(
        "chaos split: module kills=%d nats kills=%d requests=%ld acknowledged=%ld "
        "refused-while-down=%ld "
        "tickets=%zu orders=%zu paid=%zu cancelled=%zu joins=%zu resales=%zu violations=%d\n",
        kills, nats_kills, ledger.requests.load(), ledger.acked.load(), ledger.failed.load(),
        ledger.tickets.size(), ledger.orders.size(), ledger.paid_orders.size(),
        ledger.cancelled.size(), ledger.joins.size(), ledger.relists.size(), violations);
    return violations;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: ticketd_chaos PATH/TO/ticketd [--kills N] [--power-cuts N]"
                     " [--durability normal|full] [--workers N] [--split scripts/run-split "
                     "[--nats-kills N]]\n");
        return 2;
    }
    int kills = 0, power_cuts = 0, workers = 8, nats_kills = 0;
    std::string durability = "normal", split_script;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--kills")
            kills = std::atoi(argv[i + 1]);
        else if (a == "--power-cuts")
            power_cuts = std::atoi(argv[i + 1]);
        else if (a == "--durability")
            durability = argv[i + 1];
        else if (a == "--workers")
            workers = std::atoi(argv[i + 1]);
        else if (a == "--split")
            split_script = argv[i + 1];
        else if (a == "--nats-kills")
            nats_kills = std::atoi(argv[i + 1]);
    }
    if (kills == 0 && power_cuts == 0) kills = 5;
    signal(SIGPIPE, SIG_IGN);
    auto dir = fs::temp_directory_path() / ("ticketd-chaos-" + std::to_string(getpid()));
    fs::create_directories(dir);
    int violations = 0;
    try {
        violations = split_script.empty()
                         ? run(argv[1], dir, kills, power_cuts, durability, workers)
                         : run_split(split_script, argv[1], dir, kills, nats_kills, workers);
    } catch (const std::exception& e) {
        std::printf("chaos: error: %s\n", e.what());
        violations = -1;
    }
    if (violations == 0)
        fs::remove_all(dir);
    else
        std::printf("data directory kept for inspection: %s\n", dir.c_str());
    return violations == 0 ? 0 : 1;
}
