#include "bus/local_bus.hpp"

#include <atomic>
#include <map>
#include <thread>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>
#include <catch2/catch.hpp>

#include "bus/event_log.hpp"
#include "db/database.hpp"
#include "support/test_server.hpp"
#include "ticketd/events/ticket_events.hpp"

using namespace ticketd;
using events::TicketCreated;

namespace {

// Two databases on disk (a publisher/subscriber module and the log) that can be closed and
// reopened to simulate a crash, and a bus over them.
struct Fixture {
    test::TempDir dir;
    std::unique_ptr<db::Database> log, module;
    std::unique_ptr<bus::LocalBus> bus;

    Fixture() { open(); }
    ~Fixture() { close(); }

    void open() {
        log = std::make_unique<db::Database>("bus", dir.path() + "/bus.db");
        log->migrate({"bus"});
        module = std::make_unique<db::Database>("probe", dir.path() + "/probe.db");
        module->migrate({"probe", "outbox"});
        db::WriteTx tx(*module);
        tx.exec("CREATE TABLE IF NOT EXISTS seen (title TEXT NOT NULL, subscriber TEXT)");
        tx.commit();
        bus = std::make_unique<bus::LocalBus>(*log, test::test_bus_options());
        bus->attach_outbox(*module);
    }
    // Drops every object without a clean hand-over, as a crash would, and reopens the files.
    void crash_and_reopen() {
        close();
        open();
    }
    void close() {
        if (bus) bus->stop();
        bus.reset();
        module.reset();
        log.reset();
    }

    void publish(const std::string& title) {
        db::WriteTx tx(*module);
        bus->publish(tx, TicketCreated{.id = title + "-id",
                                       .version = 0,
                                       .title = title,
                                       .price_cents = 100,
                                       .user_id = "u"});
        tx.commit();
    }
    // Subscribes a handler that records titles in the `seen` table.
    void subscribe_recorder(const std::string& name) {
        bus->subscribe<TicketCreated>(
            name, *module, [name](db::WriteTx& tx, const TicketCreated& e) {
                auto& ins = tx.statement("INSERT INTO seen (title, subscriber) VALUES (?, ?)");
                ins.bind(1, e.title);
                ins.bind(2, name);
                ins.exec();
                return bus::Outcome::ack;
            });
    }
    std::vector<std::string> seen(const std::string& by = "%") {
        db::ReadLock read(*module);
        auto& q = read.statement(
            "SELECT title FROM seen WHERE coalesce(subscriber, '') LIKE ? ORDER BY rowid");
        q.bind(1, by);
        std::vector<std::string> out;
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    }
    // The module's outbox rows (event id, payload), in order; put_back() writes such rows again,
    // as a crash before the relay deleted them (or a power cut that undid the delete) leaves them.
    using Rows = std::vector<std::pair<std::string, std::string>>;
    Rows outbox_rows() {
        Rows rows;
        db::ReadLock read(*module);
        auto& q = read.statement("SELECT event_id, payload FROM outbox ORDER BY id");
        while (q.executeStep())
            rows.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
        return rows;
    }
    void put_back(const Rows& rows) {
        db::WriteTx tx(*module);
        for (const auto& [id, payload] : rows) {
            auto& ins = tx.statement(
                "INSERT INTO outbox (event_id, subject, payload, created_at) VALUES (?, "
                "'ticket:created', ?, 0)");
            ins.bind(1, id);
            ins.bind(2, payload);
            ins.exec();
        }
        tx.commit();
    }
    std::int64_t count(db::Database& db, const std::string& sql) {
        db::ReadLock read(db);
        auto& q = read.statement(sql);
        q.executeStep();
        return q.getColumn(0).getInt64();
    }
};

}  // namespace

TEST_CASE("a subscriber receives events in the order they were published", "[bus]") {
    Fixture f;
    f.subscribe_recorder("probe.recorder");
    f.bus->start();
    for (int i = 0; i < 50; ++i) f.publish("t" + std::to_string(i));
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    auto seen = f.seen();
    REQUIRE(seen.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(seen[i] == "t" + std::to_string(i));
    CHECK(f.count(*f.module, "SELECT count(*) FROM outbox") == 0);
}

TEST_CASE("an event is not published when its transaction rolls back", "[bus]") {
    Fixture f;
    f.subscribe_recorder("probe.recorder");
    f.bus->start();
    {
        db::WriteTx tx(*f.module);
        f.bus->publish(tx, TicketCreated{.id = "x",
                                         .version = 0,
                                         .title = "rolled back",
                                         .price_cents = 100,
                                         .user_id = "u"});
    }  // no commit
    f.publish("kept");
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.seen() == std::vector<std::string>{"kept"});
    CHECK(f.count(*f.log, "SELECT count(*) FROM events") == 1);
}

TEST_CASE("appending the same event id twice keeps one copy in the log", "[bus]") {
    Fixture f;
    f.publish("once");
    // Put the same outbox row back after it was relayed, as a crash before the delete would.
    auto rows = f.outbox_rows();
    REQUIRE(rows.size() == 1);
    CHECK(f.bus->relay_once() == 1);
    f.put_back(rows);
    CHECK(f.bus->relay_once() == 1);
    CHECK(f.count(*f.log, "SELECT count(*) FROM events") == 1);
    CHECK(f.count(*f.module, "SELECT count(*) FROM outbox") == 0);
}

TEST_CASE("a handler that keeps throwing is dead-lettered and later events still flow", "[bus]") {
    Fixture f;
    std::atomic<int> poison_tries{0};
    f.bus->subscribe<TicketCreated>(
        "probe.picky", *f.module, [&](db::WriteTx& tx, const TicketCreated& e) {
            if (e.title == "poison") {
                ++poison_tries;
                throw std::runtime_error("cannot digest");
            }
            auto& ins = tx.statement("INSERT INTO seen (title) VALUES (?)");
            ins.bind(1, e.title);
            ins.exec();
            return bus::Outcome::ack;
        });
    f.bus->start();
    f.publish("before");
    f.publish("poison");
    f.publish("after");
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.seen() == std::vector<std::string>{"before", "after"});
    CHECK(poison_tries == test::test_bus_options().retry.max_attempts);
    auto letters = bus::EventLog(*f.log).dead_letters();
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].subscriber == "probe.picky");
    CHECK(letters[0].subject == "ticket:created");
    CHECK(letters[0].error == "cannot digest");
    CHECK(letters[0].attempts == test::test_bus_options().retry.max_attempts);
}

TEST_CASE("a retried event is redelivered before any later event", "[bus]") {
    Fixture f;
    std::vector<std::string> calls;
    int refusals = 0;
    f.bus->subscribe<TicketCreated>(
        "probe.slow", *f.module, [&](db::WriteTx& tx, const TicketCreated& e) {
            calls.push_back(e.title);
            if (e.title == "first" && refusals < 2) {
                ++refusals;
                return bus::Outcome::retry;
            }
            auto& ins = tx.statement("INSERT INTO seen (title) VALUES (?)");
            ins.bind(1, e.title);
            ins.exec();
            return bus::Outcome::ack;
        });
    f.publish("first");
    f.publish("second");
    f.bus->start();
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(calls == std::vector<std::string>{"first", "first", "first", "second"});
    CHECK(f.seen() == std::vector<std::string>{"first", "second"});
    CHECK(bus::EventLog(*f.log).dead_letters().empty());
}

TEST_CASE("a retry in the middle of a batch applies the events before it exactly once", "[bus]") {
    Fixture f;
    std::vector<std::string> calls;
    bool refused = false;
    // Each handled event also publishes one: a re-run of the batch's first part must not publish
    // twice, and a refused try must publish nothing.
    f.bus->subscribe<TicketCreated>(
        "probe.mid", *f.module, [&](db::WriteTx& tx, const TicketCreated& e) {
            calls.push_back(e.title);
            if (e.version == 1) return bus::Outcome::ack;  // the echoes published below
            if (e.title == "c" && !refused) {
                refused = true;
                return bus::Outcome::retry;
            }
            auto& ins = tx.statement("INSERT INTO seen (title) VALUES (?)");
            ins.bind(1, e.title);
            ins.exec();
            f.bus->publish(tx, TicketCreated{.id = e.id + "-echo",
                                             .version = 1,
                                             .title = e.title + "'",
                                             .price_cents = 1,
                                             .user_id = "u"});
            return bus::Outcome::ack;
        });
    for (auto t : {"a", "b", "c", "d", "e"}) f.publish(t);
    f.bus->start();  // all five arrive in one batch
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.seen() == std::vector<std::string>{"a", "b", "c", "d", "e"});
    CHECK(f.count(*f.log, "SELECT count(*) FROM events WHERE payload LIKE '%\"version\":1%'") == 5);
    // a and b ran, c refused; a and b ran again (and committed); then c, d, e; then the echoes.
    CHECK(std::vector<std::string>(calls.begin(), calls.begin() + 8) ==
          std::vector<std::string>{"a", "b", "c", "a", "b", "c", "d", "e"});
    CHECK(bus::EventLog(*f.log).dead_letters().empty());
}

TEST_CASE("a retry rolls back what the handler wrote on that try", "[bus]") {
    Fixture f;
    int tries = 0;
    f.bus->subscribe<TicketCreated>(
        "probe.partial", *f.module, [&](db::WriteTx& tx, const TicketCreated& e) {
            auto& ins = tx.statement("INSERT INTO seen (title) VALUES (?)");
            ins.bind(1, e.title + std::to_string(++tries));
            ins.exec();
            return tries < 3 ? bus::Outcome::retry : bus::Outcome::ack;
        });
    f.publish("t");
    f.bus->start();
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.seen() == std::vector<std::string>{"t3"});
}

TEST_CASE("a subscriber added later catches up from the start of the log", "[bus]") {
    Fixture f;
    f.subscribe_recorder("probe.early");
    f.bus->start();
    f.publish("a");
    f.publish("b");
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    f.crash_and_reopen();
    f.subscribe_recorder("probe.early");
    f.subscribe_recorder("probe.late");  // a new durable name: replays everything
    f.bus->start();
    f.publish("c");
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.seen("probe.early") == std::vector<std::string>{"a", "b", "c"});
    CHECK(f.seen("probe.late") == std::vector<std::string>{"a", "b", "c"});
    for (auto& s : f.bus->subscribers()) CHECK(s.position == s.head);
}

TEST_CASE("a crash between the relay's append and delete loses and duplicates nothing", "[bus]") {
    Fixture f;
    f.subscribe_recorder("probe.recorder");
    for (int i = 0; i < 5; ++i) f.publish("e" + std::to_string(i));
    // Keep a copy of the outbox rows, relay them (append + delete), then put them back: the state
    // a crash right after the append and before the delete leaves behind.
    auto rows = f.outbox_rows();
    REQUIRE(f.bus->relay_once() == 5);
    f.put_back(rows);
    f.publish("e5");  // written before the crash, never relayed
    f.crash_and_reopen();
    f.subscribe_recorder("probe.recorder");
    f.bus->start();
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.count(*f.log, "SELECT count(*) FROM events") == 6);
    CHECK(f.count(*f.module, "SELECT count(*) FROM outbox") == 0);
    CHECK(f.seen() == std::vector<std::string>{"e0", "e1", "e2", "e3", "e4", "e5"});
}

TEST_CASE("a power cut that takes the log's last appends loses and repeats nothing", "[bus]") {
    Fixture f;
    f.subscribe_recorder("probe.recorder");
    for (auto t : {"a", "b", "c"}) f.publish(t);
    auto rows = f.outbox_rows();
    f.bus->start();
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    REQUIRE(f.seen() == std::vector<std::string>{"a", "b", "c"});
    f.bus->stop();
    // The state such a cut leaves: the subscriber's database kept its effects and its position
    // (3), the log lost b and c, and so their outbox rows were never deleted (that waits for the
    // log to be on disk).
    {
        db::WriteTx tx(*f.log);
        tx.exec("DELETE FROM events WHERE seq > 1");
        tx.commit();
    }
    f.put_back({rows.begin() + 1, rows.end()});
    f.publish("d");  // new: it takes seq 2, 3 or 4, all of which the subscriber must read
    f.crash_and_reopen();
    f.subscribe_recorder("probe.recorder");
    f.bus->start();
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.seen() == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK(f.count(*f.log, "SELECT count(*) FROM events") == 4);
    for (auto& s : f.bus->subscribers()) CHECK(s.position == s.head);
    CHECK(f.count(*f.module, "SELECT count(*) FROM outbox") == 0);
}

TEST_CASE("events delivered again behind a subscriber's position have no second effect", "[bus]") {
    Fixture f;
    f.subscribe_recorder("probe.recorder");
    f.bus->start();
    f.publish("x");
    f.publish("y");
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    f.crash_and_reopen();
    {
        // The position is written with the effects, so only a rewound database (an old copy of
        // the file) can put it behind them: the inbox still keeps the effects single.
        db::WriteTx tx(*f.module);
        tx.exec("UPDATE bus_positions SET position = 0 WHERE subscriber = 'probe.recorder'");
        tx.commit();
    }
    f.subscribe_recorder("probe.recorder");
    f.bus->start();
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.seen() == std::vector<std::string>{"x", "y"});
    for (auto& s : f.bus->subscribers()) CHECK(s.position == 2);
}

TEST_CASE("old inbox rows are pruned between batches, and nothing is delivered twice", "[bus]") {
    test::TempDir dir;
    db::Database log("bus", dir.path() + "/bus.db");
    log.migrate({"bus"});
    db::Database module("probe", dir.path() + "/probe.db");
    module.migrate({"probe", "outbox"});
    auto options = test::test_bus_options();
    options.inbox_retention = std::chrono::milliseconds(0);  // everything processed may go
    options.prune_every = std::chrono::milliseconds(50);
    bus::LocalBus bus(log, options);
    bus.attach_outbox(module);
    std::atomic<int> handled{0};
    bus.subscribe<TicketCreated>("probe.counter", module, [&](db::WriteTx&, const TicketCreated&) {
        ++handled;
        return bus::Outcome::ack;
    });
    auto inbox_rows = [&] {
        db::ReadLock read(module);
        auto& q = read.statement("SELECT count(*) FROM inbox");
        q.executeStep();
        return q.getColumn(0).getInt64();
    };
    bus.start();
    for (int i = 0; i < 3; ++i) {
        db::WriteTx tx(module);
        bus.publish(tx, TicketCreated{.id = "t" + std::to_string(i),
                                      .version = 0,
                                      .title = "x",
                                      .price_cents = 1,
                                      .user_id = "u"});
        tx.commit();
    }
    REQUIRE(bus.wait_idle(std::chrono::seconds(10)));
    CHECK(handled == 3);
    for (int i = 0; i < 200 && inbox_rows() > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(inbox_rows() == 0);
    for (auto& s : bus.subscribers()) CHECK(s.position == s.head);
    bus.stop();
    // A restart resumes from the cursor: the pruned events are not handled again.
    bus::LocalBus again(log, options);
    again.attach_outbox(module);
    again.subscribe<TicketCreated>("probe.counter", module,
                                   [&](db::WriteTx&, const TicketCreated&) {
                                       ++handled;
                                       return bus::Outcome::ack;
                                   });
    again.start();
    REQUIRE(again.wait_idle(std::chrono::seconds(10)));
    CHECK(handled == 3);
}

TEST_CASE("a quiet outbox is emptied while another one stays busy", "[bus]") {
    test::TempDir dir;
    db::Database log("bus", dir.path() + "/bus.db");
    log.migrate({"bus"});
    db::Database quiet("probe", dir.path() + "/quiet.db"), busy("probe", dir.path() + "/busy.db");
    quiet.migrate({"probe", "outbox"});
    busy.migrate({"probe", "outbox"});
    bus::LocalBus bus(log, test::test_bus_options());
    bus.attach_outbox(quiet);
    bus.attach_outbox(busy);
    bus.start();
    auto publish = [&](db::Database& db, const std::string& id) {
        db::WriteTx tx(db);
        bus.publish(
            tx,
            TicketCreated{.id = id, .version = 0, .title = "x", .price_cents = 1, .user_id = "u"});
        tx.commit();
    };
    auto outbox_rows = [](db::Database& db) {
        db::ReadLock read(db);
        auto& q = read.statement("SELECT count(*) FROM outbox");
        q.executeStep();
        return q.getColumn(0).getInt64();
    };
    publish(quiet, "q");
    // A commit every 2 ms elsewhere: the relay never sees the 20 ms pause it deletes after.
    std::int64_t left = 1;
    for (int i = 0; i < 500 && left > 0; ++i) {
        publish(busy, "b" + std::to_string(i));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (i % 10 == 9) left = outbox_rows(quiet);
    }
    CHECK(left == 0);
    REQUIRE(bus.wait_idle(std::chrono::seconds(10)));
    CHECK(outbox_rows(busy) == 0);
}

TEST_CASE("wait_idle covers events published by handlers", "[bus]") {
    Fixture f;
    // A chain: each created ticket below 20 publishes the next one from inside its handler.
    f.bus->subscribe<TicketCreated>(
        "probe.chain", *f.module, [&](db::WriteTx& tx, const TicketCreated& e) {
            auto& ins = tx.statement("INSERT INTO seen (title) VALUES (?)");
            ins.bind(1, e.title);
            ins.exec();
            if (e.version < 20)
                f.bus->publish(tx, TicketCreated{.id = e.id + "+",
                                                 .version = e.version + 1,
                                                 .title = e.title,
                                                 .price_cents = 1,
                                                 .user_id = "u"});
            return bus::Outcome::ack;
        });
    f.bus->start();
    f.publish("link");
    REQUIRE(f.bus->wait_idle(std::chrono::seconds(10)));
    CHECK(f.seen().size() == 21);
}

TEST_CASE("once modules declare what they publish, an undeclared publish is refused", "[bus]") {
    Fixture f;
    f.publish("before any declaration");  // a bare bus checks nothing
    f.bus->publishes<TicketCreated>("tickets");
    {
        db::WriteTx tx(*f.module);
        CHECK_THROWS_AS(
            f.bus->publish(
                tx,
                TicketCreated{
                    .id = "x", .version = 0, .title = "x", .price_cents = 1, .user_id = "u"}),
            std::logic_error);
    }  // rolled back
    f.bus->publishes<TicketCreated>("probe");
    f.publish("declared");
    CHECK(f.count(*f.module, "SELECT count(*) FROM outbox") == 2);
}
