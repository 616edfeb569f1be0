#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "app/cli.hpp"
#include "bus/event_log.hpp"
#include "bus/local_bus.hpp"
#include "host/backup.hpp"
#include "host/event_catalog.hpp"
#include "support/db_query.hpp"
#include "support/http_client.hpp"
#include "support/probe_module.hpp"
#include "support/recording_bus.hpp"
#include "support/test_server.hpp"
#include "ticketd/events/ticket_events.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

// Runs the CLI in-process and returns (exit status, stdout).
std::pair<int, std::string> cli(std::vector<std::string> args) {
    std::vector<const char*> argv{"ticketd"};
    for (auto& a : args) argv.push_back(a.c_str());
    std::ostringstream captured;
    auto* old = std::cout.rdbuf(captured.rdbuf());
    int status = run_cli(static_cast<int>(argv.size()), argv.data(), {});
    std::cout.rdbuf(old);
    return {status, captured.str()};
}

}  // namespace

TEST_CASE("docs/events.md is what the registered contracts and subscriptions say",
          "[events][docs]") {
    Config c = test::test_config(":memory:");
    App app(c);
    std::ifstream file(std::string(TICKETD_SOURCE_DIR) + "/docs/events.md");
    std::stringstream text;
    text << file.rdbuf();
    INFO("docs/events.md is stale: run `build/ticketd events doc > docs/events.md`");
    const auto& contracts = application().contracts;
    CHECK(text.str() == host::events_doc(app.bus(), contracts, application().events_doc_intro));
    auto graph = host::event_graph(app.bus(), contracts);
    CHECK(graph.find(R"(orders -- "order:created" --> tickets)") != std::string::npos);
    CHECK(graph.find(R"(payments -- "payment:refunded" --> orders)") != std::string::npos);
}

TEST_CASE("a backup taken under write load holds everything acknowledged before it began",
          "[backup]") {
    test::TempDir backup_dir, restored_dir;
    std::vector<std::string> acknowledged_before;
    {
        test::TestServer app;
        std::atomic<bool> stop{false};
        std::mutex m;
        std::vector<std::string> acknowledged;
        std::thread writer([&] {
            test::HttpClient c(app.port());
            c.cookie = test::session_cookie("seller");
            for (int i = 0; !stop; ++i) {
                auto res = c.post("/api/tickets",
                                  R"({"title":"t)" + std::to_string(i) + R"(","price":1})");
                if (res.status == 201) {
                    std::lock_guard lock(m);
                    acknowledged.emplace_back(json::parse(res.body).at("id").as_string());
                }
            }
        });
        while (true) {
            std::lock_guard lock(m);
            if (acknowledged.size() >= 50) break;
        }
        {
            std::lock_guard lock(m);
            acknowledged_before = acknowledged;
        }
        auto [status, out] =
            cli({"backup", backup_dir.path() + "/b", "--data-dir", app.data_dir()});
        CHECK(status == 0);
        stop = true;
        writer.join();
    }
    auto [status, out] =
        cli({"restore", backup_dir.path() + "/b", "--data-dir", restored_dir.path()});
    REQUIRE(status == 0);
    CHECK(cli({"restore", backup_dir.path() + "/b", "--data-dir", restored_dir.path()}).first ==
          1);  // not empty

    test::TestServer restored(restored_dir.path(), {});
    restored.wait_idle();
    test::HttpClient c(restored.port());
    for (const auto& id : acknowledged_before) CHECK(c.get("/api/tickets/" + id).status == 200);
    // The copies are one consistent cut: the orders replica catches up with every ticket.
    CHECK(test::query_int(restored.app().database("tickets"), "SELECT count(*) FROM tickets") ==
          test::query_int(restored.app().database("orders"), "SELECT count(*) FROM tickets"));
}

TEST_CASE("a dead letter can be re-queued and is then delivered", "[bus][dead-letters]") {
    test::TempDir dir;
    std::atomic<bool> healthy{false};
    std::atomic<int> delivered{0};
    db::Database log("bus", dir.path() + "/bus.db");
    log.migrate({"bus"});
    db::Database module("probe", dir.path() + "/probe.db");
    module.migrate({"probe", "outbox"});
    bus::LocalBus bus(log, test::test_bus_options());
    bus.attach_outbox(module);
    bus.subscribe<events::TicketCreated>("probe.flaky", module,
                                         [&](db::WriteTx&, const events::TicketCreated&) {
                                             if (!healthy)
                                                 throw std::runtime_error("downstream is down");
                                             ++delivered;
                                             return bus::Outcome::ack;
                                         });
    bus.start();
    {
        db::WriteTx tx(module);
        bus.publish(tx,
                    events::TicketCreated{
                        .id = "t", .version = 0, .title = "x", .price_cents = 1, .user_id = "u"});
        tx.commit();
    }
    REQUIRE(bus.wait_idle(std::chrono::seconds(10)));
    auto letters = bus::EventLog(log).dead_letters();
    REQUIRE(letters.size() == 1);
    healthy = true;  // the cause is fixed
    auto [status, out] =
        cli({"dead-letters", "retry", std::to_string(letters[0].id), "--data-dir", dir.path()});
    CHECK(status == 0);
    // The running bus looks for re-queued letters once a second.
    for (int i = 0; i < 500 && !bus::EventLog(log).dead_letters().empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(bus::EventLog(log).dead_letters().empty());
    CHECK(delivered == 1);
    CHECK(cli({"dead-letters", "retry", "999", "--data-dir", dir.path()}).first == 1);
}

TEST_CASE("events tail shows the log, filtered by subject and position", "[events]") {
    test::TempDir dir;
    {
        test::TestServer app(dir.path(), {});
        test::HttpClient c(app.port());
        c.cookie = test::session_cookie("seller");
        auto t = json::parse(c.post("/api/tickets", R"({"title":"Tail","price":3})").body);
        c.put("/api/tickets/" + std::string(t.at("id").as_string()),
              R"({"title":"Tail 2","price":3})");
        app.wait_idle();
    }
    auto [status, out] = cli({"events", "tail", "--data-dir", dir.path()});
    CHECK(status == 0);
    CHECK(out.find("ticket:created") != std::string::npos);
    CHECK(out.find("ticket:updated") != std::string::npos);
    auto [s2, only] =
        cli({"events", "tail", "--subject", "ticket:updated", "--data-dir", dir.path()});
    CHECK(only.find("ticket:created") == std::string::npos);
    CHECK(only.find("\"Tail 2\"") != std::string::npos);
    auto [s3, later] = cli({"events", "tail", "--from", "1", "--data-dir", dir.path()});
    CHECK(later.rfind("2 ", 0) == 0);
}

TEST_CASE("the command line refuses bad values with status 2 and one line naming the flag",
          "[cli]") {
    CHECK(cli({"--port", "70000"}).first == 2);
    CHECK(cli({"--payments", "paypal"}).first == 2);
    CHECK(cli({"--nope"}).first == 2);
    CHECK(cli({"frobnicate"}).first == 2);
    auto [status, help] = cli({"--help"});
    CHECK(status == 0);
    for (auto flag :
         {"--port", "--data-dir", "--reservation-window", "EXPIRATION_WINDOW_SECONDS", "--payments",
          "PAYMENTS_PROVIDER", "JWT_KEY", "--production", "TICKETD_ENV", "--durability"})
        CHECK(help.find(flag) != std::string::npos);
    auto cmd = parse_command_line(3, std::vector<const char*>{"ticketd", "--port", "4000"}.data(),
                                  {"PORT=5000", "EXPIRATION_WINDOW_SECONDS=60"});
    CHECK(cmd.config.port == 4000);  // flags win over the environment
    CHECK(cmd.config.reservation_window_seconds == 60);
    CHECK_THROWS_WITH(parse_command_line(1, std::vector<const char*>{"ticketd"}.data(), {"PORT=x"}),
                      Catch::Contains("PORT"));
}

TEST_CASE(
    "the --modules flag accepts exactly the modules the application registers, in their order",
    "[config]") {
    // The registry (app.cpp: names and factories) and the names the flag checks (config.cpp,
    // which cannot see the modules) are two lists: this keeps them one.
    std::vector<std::string> registered;
    for (const auto& spec : builtin_modules()) registered.push_back(spec.name);
    CHECK(registered == module_names());
}

TEST_CASE("the flags --modules and --bus choose what a process runs and what carries its events",
          "[config]") {
    auto parse = [](std::vector<const char*> args) {
        args.insert(args.begin(), "ticketd");
        return parse_command_line(static_cast<int>(args.size()), args.data(), {}).config;
    };
    auto all = parse({});
    CHECK(all.runs("orders"));
    CHECK(all.bus_servers.empty());
    auto some = parse({"--modules", "orders,payments,orders", "--bus",
                       "nats://10.0.0.5:4222,nats://10.0.0.6:4222"});
    CHECK(some.modules == std::vector<std::string>{"orders", "payments"});
    CHECK(some.runs("payments"));
    CHECK_FALSE(some.runs("tickets"));
    CHECK(some.bus_servers ==
          std::vector<std::string>{"nats://10.0.0.5:4222", "nats://10.0.0.6:4222"});
    CHECK_THROWS_WITH(parse({"--modules", "orders,shipping"}), Catch::Contains("--modules"));
    CHECK_THROWS_WITH(parse({"--bus", "kafka://x:1"}), Catch::Contains("--bus"));
    CHECK_THROWS_WITH(parse({"--bus", "nats://"}), Catch::Contains("--bus"));
}

TEST_CASE("a process runs only its modules: the routes of the others are 404 there", "[config]") {
    test::TestServer app([](Config& c) { c.modules = {"tickets"}; });
    test::HttpClient c(app.port());
    CHECK(c.get("/api/tickets").status == 200);
    CHECK(c.get("/api/orders").status == 404);
    CHECK(c.post("/api/users/signup", R"({"email":"a@b.c","password":"secret12"})").status == 404);
    CHECK_THROWS(app.app().database("orders"));
}
