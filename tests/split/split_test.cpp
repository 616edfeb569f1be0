// The HTTP flows against the split deployment (scripts/run-split: one ticketd per module on a
// three-node NATS JetStream cluster, nginx in front), as a client sees them through the front
// door: auth, tickets, orders, payments, expiry, the 200-buyer dogpile, and a restart that keeps
// everything. One deployment serves every test case (starting it takes seconds); `make test-split`.
#include <sys/wait.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "http/session.hpp"
#include "support/http_client.hpp"
#include "support/split_deployment.hpp"
#include "support/test_server.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

const std::string jwt_key = "split-test-signing-key-0123456789abcdef0123";
constexpr int window_seconds = 3;

struct Deployment {
    test::TempDir dir;
    test::SplitDeployment split{TICKETD_SOURCE_DIR "/scripts/run-split",
                                TICKETD_BINARY,
                                dir.path(),
                                {{"JWT_KEY", jwt_key},
                                 {"EXPIRATION_WINDOW_SECONDS", std::to_string(window_seconds)},
                                 {"TICKETD_ACCESS_LOG", "false"}}};
    Deployment() { split.start(); }
};

Deployment& deployment() {
    static Deployment d;
    return d;
}

std::uint16_t front_door() { return deployment().split.port(); }

std::string field(const std::string& body, const char* key) {
    auto v = json::parse(body);
    return std::string(v.at(key).as_string());
}

// A session for `user`, signed with the deployment's key (what a sign-in would give).
std::string cookie_for(const std::string& user) {
    static util::SystemClock clock;
    static http::Sessions sessions(jwt_key, false, std::chrono::hours(24), clock);
    return util::base64_encode(
        json::serialize(json::object{{"jwt", sessions.issue(user, user + "@split")}}));
}

std::unique_ptr<test::HttpClient> signed_in(const std::string& user) {
    auto c = std::make_unique<test::HttpClient>(front_door());
    c->cookie = cookie_for(user);
    return c;
}

// Polls `ok` for up to 20 s: events cross processes and NATS before they show.
bool eventually(const std::function<bool()>& ok) {
    for (int i = 0; i < 400; ++i) {
        if (ok()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// Until every process's /metrics shows no subscriber lag and no outbox row: the split's
// wait_idle(). False after 20 s.
bool settled() {
    return eventually([] {
        for (auto port : deployment().split.metrics_ports()) {
            auto m = test::HttpClient(port).get("/metrics").body;
            for (auto name : {"\nticketd_subscriber_lag_events{", "\nticketd_outbox_pending{"})
                for (auto at = m.find(name); at != std::string::npos; at = m.find(name, at + 1)) {
                    auto end = m.find('\n', at + 1);
                    if (m.substr(m.rfind(' ', end) + 1, end - m.rfind(' ', end) - 1) != "0")
                        return false;
                }
        }
        return true;
    });
}

std::string sell(test::HttpClient& seller, int price = 20) {
    auto res = seller.post("/api/tickets",
                           R"({"title":"Split concert","price":)" + std::to_string(price) + "}");
    REQUIRE(res.status == 201);
    return field(res.body, "id");
}

std::string order_status(test::HttpClient& buyer, const std::string& order) {
    auto res = buyer.get("/api/orders/" + order);
    return res.status == 200 ? field(res.body, "status") : "";
}

}  // namespace

TEST_CASE("split: the front door is ready only with every module process, and routes by prefix") {
    test::HttpClient c(front_door());
    CHECK(c.get("/readyz").status == 200);
    CHECK(c.get("/").status == 200);  // the web UI, from any process
    CHECK(c.get("/api/tickets").status == 200);
    // A process serves only its own module's routes.
    auto [orders_port, orders_metrics] = deployment().split.ports_of("orders");
    test::HttpClient orders(orders_port);
    CHECK(orders.get("/api/tickets").status == 404);
    CHECK(orders.get("/api/users/currentuser").status == 404);
    CHECK(orders.get("/readyz").status == 200);
}

TEST_CASE("split: sign up, sign in and sign out; the session is valid in every process") {
    test::HttpClient c(front_door());
    auto signup =
        c.post("/api/users/signup", R"({"email":"split@example.com","password":"secret-split"})");
    REQUIRE(signup.status == 201);
    CHECK(c.post("/api/users/signup", R"({"email":"split@example.com","password":"secret-split"})")
              .status == 400);
    auto me = c.get("/api/users/currentuser");
    CHECK(me.body.find("split@example.com") != std::string::npos);
    // The cookie auth issued is accepted by tickets' process: one JWT_KEY for all.
    CHECK(c.post("/api/tickets", R"({"title":"from a session","price":5})").status == 201);
    CHECK(c.post("/api/users/signout", "{}").status == 200);
    CHECK(c.post("/api/tickets", R"({"title":"signed out","price":5})").status == 401);
    CHECK(c.post("/api/users/signin", R"({"email":"split@example.com","password":"wrong-one"})")
              .status == 400);
    CHECK(c.post("/api/users/signin", R"({"email":"split@example.com","password":"secret-split"})")
              .status == 200);
}

TEST_CASE("split: tickets are listed, validated and updated only by their owner") {
    auto seller = signed_in("seller-1");
    auto other = signed_in("other-1");
    CHECK(seller->post("/api/tickets", R"({"title":"","price":5})").status == 400);
    CHECK(seller->post("/api/tickets", R"({"title":"x","price":-5})").status == 400);
    auto id = sell(*seller, 30);
    CHECK(seller->get("/api/tickets/" + id).status == 200);
    CHECK(other->put("/api/tickets/" + id, R"({"title":"mine now","price":1})").status == 401);
    CHECK(seller->put("/api/tickets/" + id, R"({"title":"renamed","price":35})").status == 200);
    CHECK(field(seller->get("/api/tickets/" + id).body, "title") == "renamed");
}

TEST_CASE("split: a purchase crosses four processes and completes") {
    auto seller = signed_in("seller-2");
    auto buyer = signed_in("buyer-2");
    auto ticket = sell(*seller);
    // orders waits for the ticket:created that has to come through NATS.
    auto order = buyer->post("/api/orders", R"({"ticketId":")" + ticket + R"("})");
    REQUIRE(order.status == 201);
    auto order_id = field(order.body, "id");
    CHECK(signed_in("buyer-3")->post("/api/orders", R"({"ticketId":")" + ticket + R"("})").status ==
          400);
    // payments waits for order:created.
    auto paid =
        buyer->post("/api/payments", R"({"token":"tok_visa","orderId":")" + order_id + R"("})");
    REQUIRE(paid.status == 201);
    CHECK(eventually([&] { return order_status(*buyer, order_id) == "complete"; }));
    CHECK(eventually([&] {
        return seller->get("/api/tickets/" + ticket).body.find(order_id) != std::string::npos;
    }));
    // Paid once: a second payment is refused.
    CHECK(buyer->post("/api/payments", R"({"token":"tok_visa","orderId":")" + order_id + R"("})")
              .status == 400);
}

TEST_CASE("split: a cancelled order frees its ticket") {
    auto seller = signed_in("seller-4");
    auto buyer = signed_in("buyer-4");
    auto ticket = sell(*seller);
    auto order = buyer->post("/api/orders", R"({"ticketId":")" + ticket + R"("})");
    REQUIRE(order.status == 201);
    CHECK(buyer->del("/api/orders/" + field(order.body, "id")).status == 204);
    CHECK(eventually([&] {
        return signed_in("buyer-5")
                   ->post("/api/orders", R"({"ticketId":")" + ticket + R"("})")
                   .status == 201;
    }));
}

TEST_CASE(
    "split: the waiting list hands a cancelled reservation over and the buyer resells the ticket") {
    auto seller = signed_in("seller-w");
    auto holder = signed_in("holder-w");
    auto waiter = signed_in("waiter-w");
    auto later = signed_in("later-w");
    auto ticket = sell(*seller, 40);
    auto order = holder->post("/api/orders", R"({"ticketId":")" + ticket + R"("})");
    REQUIRE(order.status == 201);
    // The front door sends the waiting list to orders, the rest of /api/tickets to tickets.
    auto joined = waiter->post("/api/tickets/" + ticket + "/waitlist", "");
    REQUIRE(joined.status == 201);
    CHECK(json::parse(joined.body).at("position") == 1);
    REQUIRE(holder->del("/api/orders/" + field(order.body, "id")).status == 204);
    auto mine = json::parse(waiter->get("/api/orders").body).as_array();
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].at("status") == "created");
    auto handed = std::string(mine[0].at("id").as_string());
    auto paid =
        waiter->post("/api/payments", R"({"token":"tok_visa","orderId":")" + handed + R"("})");
    REQUIRE(paid.status == 201);
    CHECK(eventually(
        [&] { return field(seller->get("/api/tickets/" + ticket).body, "userId") == "waiter-w"; }));
    CHECK(waiter->get("/api/tickets?owner=me").body.find(ticket) != std::string::npos);
    auto relisted = waiter->post("/api/tickets/" + ticket + "/resale", R"({"price":40})");
    REQUIRE(relisted.status == 200);
    // orders hears of the relisting (ticket:updated through NATS) and lets it be bought again.
    CHECK(eventually([&] {
        return later->post("/api/orders", R"({"ticketId":")" + ticket + R"("})").status == 201;
    }));
    auto history = seller->get("/api/tickets/" + ticket + "/history").body;
    CHECK(history.find("relisted") != std::string::npos);
}

TEST_CASE("split: an unpaid reservation expires through the expiration process") {
    auto seller = signed_in("seller-6");
    auto buyer = signed_in("buyer-6");
    auto ticket = sell(*seller);
    auto order = buyer->post("/api/orders", R"({"ticketId":")" + ticket + R"("})");
    REQUIRE(order.status == 201);
    auto order_id = field(order.body, "id");
    CHECK(eventually([&] { return order_status(*buyer, order_id) == "cancelled"; }));
    // Once payments has heard of it too, a payment is refused. (One that races the cancellation
    // is taken and refunded, in split mode as in-process: payment:refunded.)
    REQUIRE(settled());
    auto late =
        buyer->post("/api/payments", R"({"token":"tok_visa","orderId":")" + order_id + R"("})");
    CHECK(late.status == 400);
}

TEST_CASE("split: 200 buyers at once for one ticket: exactly one wins") {
    auto seller = signed_in("seller-7");
    auto ticket = sell(*seller);
    // Let orders hear of it first, so that every buyer races for the ticket itself.
    REQUIRE(eventually([&] { return seller->get("/api/tickets/" + ticket).status == 200; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    constexpr int buyers = 200;
    std::vector<std::unique_ptr<test::HttpClient>> clients;
    for (int i = 0; i < buyers; ++i) clients.push_back(signed_in("dogpile-" + std::to_string(i)));
    std::atomic<int> won{0}, refused{0}, other{0};
    std::barrier go(buyers);
    std::vector<std::thread> threads;
    for (int i = 0; i < buyers; ++i)
        threads.emplace_back([&, i] {
            go.arrive_and_wait();
            auto res = clients[static_cast<std::size_t>(i)]->post(
                "/api/orders", R"({"ticketId":")" + ticket + R"("})");
            (res.status == 201 ? won : res.status == 400 ? refused : other)++;
        });
    for (auto& t : threads) t.join();
    CHECK(won == 1);
    CHECK(refused == buyers - 1);
    CHECK(other == 0);
}

TEST_CASE(
    "split: a module process killed with SIGKILL comes back with everything it acknowledged") {
    auto seller = signed_in("seller-8");
    auto ticket = sell(*seller);
    deployment().split.kill9("tickets");
    // nginx answers in the API's error shape while it is down, and the script starts it again.
    CHECK(eventually([&] { return seller->get("/api/tickets/" + ticket).status == 200; }));
    auto buyer = signed_in("buyer-8");
    CHECK(eventually([&] {
        return buyer->post("/api/orders", R"({"ticketId":")" + ticket + R"("})").status == 201;
    }));
}

TEST_CASE("split: purchases go on while any one NATS node is kept down") {
    // Each node in turn. The stream and each consumer (three replicas) elect leaders among the
    // two left. A deployment of its own, with a reservation window longer than the elections:
    // the shared one's 3 s window would expire the order while payment:created waits out one.
    test::TempDir dir;
    test::SplitDeployment split{TICKETD_SOURCE_DIR "/scripts/run-split",
                                TICKETD_BINARY,
                                dir.path(),
                                {{"JWT_KEY", jwt_key},
                                 {"EXPIRATION_WINDOW_SECONDS", "120"},
                                 {"TICKETD_ACCESS_LOG", "false"}}};
    split.start();
    auto client = [&](const std::string& user) {
        auto c = std::make_unique<test::HttpClient>(split.port());
        c->cookie = cookie_for(user);
        return c;
    };
    for (int n = 1; n <= 3; ++n) {
        auto node = "nats-" + std::to_string(n);
        INFO(node + " down");
        auto old_pid = split.pid_of(node);
        split.hold(node, true);
        split.kill9(node);
        auto seller = client("seller-node-" + std::to_string(n));
        auto buyer = client("buyer-node-" + std::to_string(n));
        auto ticket = sell(*seller);
        std::string order_id;
        // A request may find its event still on the way through an election: asked again.
        REQUIRE(eventually([&] {
            auto res = buyer->post("/api/orders", R"({"ticketId":")" + ticket + R"("})");
            if (res.status == 201) order_id = field(res.body, "id");
            return res.status == 201;
        }));
        REQUIRE(eventually([&] {
            return buyer
                       ->post("/api/payments",
                              R"({"token":"tok_visa","orderId":")" + order_id + R"("})")
                       .status == 201;
        }));
        CHECK(eventually([&] { return order_status(*buyer, order_id) == "complete"; }));
        CHECK(eventually([&] {
            return seller->get("/api/tickets/" + ticket).body.find(order_id) != std::string::npos;
        }));
        split.hold(node, false);
        REQUIRE(eventually([&] { return split.pid_of(node) != old_pid && split.running(node); }));
        std::this_thread::sleep_for(
            std::chrono::seconds(3));  // it catches up before the next one goes
    }
    CHECK(split.terminate() == 0);
}

// Runs `command` and returns what it printed, and its exit status.
std::pair<std::string, int> run(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    REQUIRE(p);
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    int status = pclose(p);
    return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST_CASE("split: the operations tools read the split deployment") {
    auto seller = signed_in("seller-10");
    auto ticket = sell(*seller);
    REQUIRE(settled());
    const auto& dir = deployment().split.dir();
    std::ifstream urls_file(dir / "run" / "nats.urls");
    std::string urls;
    urls_file >> urls;
    // events tail reads the JetStream stream, with where each event came from.
    auto [events, status] =
        run(std::string(TICKETD_BINARY) + " events tail --subject ticket:created --bus " + urls);
    CHECK(status == 0);
    CHECK(events.find(ticket) != std::string::npos);
    CHECK(events.find("ticket:created from=tickets") != std::string::npos);
    CHECK(events.find("order:created") == std::string::npos);
    // Each process keeps its own dead letters (none here) beside its module's database.
    auto [letters, letters_status] =
        run(std::string(TICKETD_BINARY) + " dead-letters --data-dir " + (dir / "orders").string());
    CHECK(letters_status == 0);
    // /metrics of a module process shows its subscribers' lag.
    auto metrics =
        test::HttpClient(deployment().split.ports_of("orders").second).get("/metrics").body;
    CHECK(metrics.find("ticketd_subscriber_lag_events{subscriber=\"orders.ticket-created\"} 0") !=
          std::string::npos);
}

TEST_CASE("split: stopped and started again on the same data directory, everything is kept") {
    auto seller = signed_in("seller-9");
    auto ticket = sell(*seller);
    auto buyer = signed_in("buyer-9");
    auto order = buyer->post("/api/orders", R"({"ticketId":")" + ticket + R"("})");
    REQUIRE(order.status == 201);
    auto& split = deployment().split;
    REQUIRE(split.terminate() == 0);
    split.start();
    auto again = signed_in("buyer-9");
    CHECK(again->get("/api/tickets/" + ticket).status == 200);
    CHECK(order_status(*again, field(order.body, "id")) != "");
}
