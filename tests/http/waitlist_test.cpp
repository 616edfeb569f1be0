// The waiting list (API.md, "Waiting list"): joining, the handover when a reservation ends, and
// its races with cancels, expiries and payments. Against a real server, with real concurrency.
#include <atomic>
#include <barrier>
#include <map>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/db_query.hpp"
#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/shop.hpp"
#include "support/test_server.hpp"
#include "util/time_format.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

std::string waitlist(const std::string& ticket_id) {
    return "/api/tickets/" + ticket_id + "/waitlist";
}

test::HttpResponse join(test::HttpClient& c, const std::string& ticket_id) {
    return c.post(waitlist(ticket_id), "");
}

json::object place(test::HttpClient& c, const std::string& ticket_id) {
    auto res = c.get(waitlist(ticket_id));
    REQUIRE(res.status == 200);
    return json::parse(res.body).as_object();
}

// The caller's orders for `ticket_id` with status `status`.
std::vector<json::object> orders_for(test::HttpClient& c, const std::string& ticket_id,
                                     const std::string& status) {
    auto list = json::parse(c.get("/api/orders").body);
    std::vector<json::object> out;
    for (auto& o : list.as_array())
        if (o.at("ticket").at("id") == ticket_id.c_str() && o.at("status") == status.c_str())
            out.push_back(o.as_object());
    return out;
}

std::int64_t holding_orders(test::TestServer& app, const std::string& ticket_id) {
    return test::query_int(app.app().database("orders"),
                           "SELECT count(*) FROM orders WHERE status <> 'cancelled' AND released = "
                           "0 AND ticket_id = '" +
                               ticket_id + "'");
}

std::string held_by(test::TestServer& app, const std::string& ticket_id) {
    return test::query_text(
        app.app().database("tickets"),
        "SELECT coalesce(order_id, '') FROM tickets WHERE id = '" + ticket_id + "'");
}

}  // namespace

TEST_CASE(
    "waitlist: joining refuses what the API says it refuses and a second join keeps the place",
    "[orders][waitlist]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-w1");
    auto holder = test::as_user(app, "holder-w1");
    auto first = test::as_user(app, "first-w1");
    auto second = test::as_user(app, "second-w1");
    auto id = test::sell(app, *seller, "25");

    CHECK(join(*first, "no-such-ticket").status == 404);
    CHECK(first->get(waitlist("no-such-ticket")).status == 404);
    CHECK(first->del(waitlist("no-such-ticket")).status == 404);
    test::HttpClient anonymous(app.port());
    CHECK(anonymous.post(waitlist(id), "").status == 401);
    CHECK(anonymous.get(waitlist(id)).status == 401);
    CHECK(anonymous.del(waitlist(id)).status == 401);

    auto listed = join(*first, id);
    CHECK(listed.status == 400);
    CHECK(test::error_message(listed.body) == "Ticket is not reserved");
    CHECK(test::error_message(join(*seller, id).body) == "You own this ticket");

    auto order = test::reserve(app, *holder, id);
    CHECK(test::error_message(join(*seller, id).body) == "You own this ticket");  // checked first
    CHECK(test::error_message(join(*holder, id).body) == "You already hold this ticket");
    auto joined = join(*first, id);
    CHECK(joined.status == 201);
    CHECK(json::parse(joined.body) ==
          json::parse(R"({"ticketId":")" + id + R"(","position":1,"length":1})"));
    CHECK(join(*second, id).status == 201);
    auto again = join(*first, id);
    CHECK(again.status == 200);
    CHECK(json::parse(again.body).at("position") == 1);
    CHECK(place(*second, id).at("position") == 2);
    CHECK(place(*second, id).at("length") == 2);
    auto outside = place(*holder, id);
    CHECK(outside.at("position").is_null());
    CHECK(outside.at("length") == 2);

    // The line goes first: a direct order is refused while anyone waits.
    auto direct = test::as_user(app, "direct-w1");
    auto refused = direct->post("/api/orders", R"({"ticketId":")" + id + R"("})");
    CHECK(refused.status == 400);
    CHECK(test::error_message(refused.body) == "Ticket is already reserved");

    CHECK(first->del(waitlist(id)).status == 204);
    CHECK(first->del(waitlist(id)).status == 204);  // not in line: 204 too
    CHECK(place(*second, id).at("position") == 1);
    CHECK(place(*second, id).at("length") == 1);

    // Sold: the line is cleared, and there is nothing left to wait for.
    REQUIRE(test::pay(*holder, order).status == 201);
    app.wait_idle();
    CHECK(place(*second, id).at("position").is_null());
    CHECK(place(*second, id).at("length") == 0);
    CHECK(test::error_message(join(*first, id).body) == "Ticket is not reserved");
    CHECK(orders_for(*second, id, "created").empty());
}

TEST_CASE(
    "waitlist: a cancelled reservation goes to the first in line at once then the next on expiry",
    "[orders][waitlist][expiration]") {
    test::ClockedApp c;
    auto& app = *c.app;
    auto seller = test::as_user(app, "seller-w2");
    auto holder = test::as_user(app, "holder-w2");
    auto first = test::as_user(app, "first-w2");
    auto second = test::as_user(app, "second-w2");
    auto direct = test::as_user(app, "direct-w2");
    auto id = test::sell(app, *seller, "25");
    auto order = test::reserve(app, *holder, id);
    REQUIRE(join(*first, id).status == 201);
    REQUIRE(join(*second, id).status == 201);
    REQUIRE(seller->put("/api/tickets/" + id, R"({"title":"Final","price":25})").status ==
            400);  // reserved

    // 50 s of the holder's 60 s window gone: the handover must not inherit the 10 s left.
    c.clock.advance(std::chrono::seconds(50));
    app.wait_idle();
    REQUIRE(holder->del("/api/orders/" + order).status == 204);
    // Handed over in the cancel's own transaction: nobody can slip in.
    auto refused = direct->post("/api/orders", R"({"ticketId":")" + id + R"("})");
    CHECK(test::error_message(refused.body) == "Ticket is already reserved");
    auto handed = orders_for(*first, id, "created");
    REQUIRE(handed.size() == 1);
    CHECK(handed[0].at("ticket").at("price") == 25);
    CHECK(place(*first, id).at("position").is_null());
    CHECK(place(*second, id).at("position") == 1);
    app.wait_idle();
    std::string first_order(handed[0].at("id").as_string());
    CHECK(held_by(app, id) == first_order);  // tickets heard: reserved by the new order
    CHECK(test::query_int(app.app().database("expiration"),
                          "SELECT count(*) FROM jobs WHERE order_id = '" + first_order + "'") == 1);

    // A full window of its own: it expires 60 s after the handover, and the next in line gets it.
    auto expires = util::parse_rfc3339(std::string(handed[0].at("expiresAt").as_string()));
    REQUIRE(expires);
    CHECK(std::chrono::abs(*expires - (c.clock.now() + std::chrono::seconds(60))) <
          std::chrono::seconds(1));
    c.clock.advance(std::chrono::seconds(55));
    app.wait_idle();
    CHECK(test::status_of(*first, first_order) == "created");
    c.clock.advance(std::chrono::seconds(6));
    app.wait_idle();
    CHECK(test::status_of(*first, first_order) == "cancelled");
    auto next = orders_for(*second, id, "created");
    REQUIRE(next.size() == 1);
    CHECK(place(*second, id).at("length") == 0);
    app.wait_idle();
    CHECK(held_by(app, id) == std::string(next[0].at("id").as_string()));

    // Nobody left in line: cancelled, the ticket is listed again, and anyone can buy it.
    REQUIRE(second->del("/api/orders/" + std::string(next[0].at("id").as_string())).status == 204);
    app.wait_idle();
    CHECK(held_by(app, id).empty());
    CHECK(direct->post("/api/orders", R"({"ticketId":")" + id + R"("})").status == 201);
    CHECK(holding_orders(app, id) == 1);
}

TEST_CASE(
    "waitlist: the handed-over order is paid like any other and a relisted ticket starts a new "
    "line",
    "[orders][waitlist][resale]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-w3");
    auto holder = test::as_user(app, "holder-w3");
    auto waiter = test::as_user(app, "waiter-w3");
    auto later = test::as_user(app, "later-w3");
    auto id = test::sell(app, *seller, "25");
    auto order = test::reserve(app, *holder, id);
    REQUIRE(join(*waiter, id).status == 201);
    REQUIRE(holder->del("/api/orders/" + order).status == 204);
    app.wait_idle();
    auto handed = orders_for(*waiter, id, "created");
    REQUIRE(handed.size() == 1);
    std::string handed_id(handed[0].at("id").as_string());
    REQUIRE(test::pay(*waiter, handed_id).status == 201);
    app.wait_idle();
    CHECK(test::status_of(*waiter, handed_id) == "complete");
    auto sold = json::parse(waiter->get("/api/tickets/" + id).body);
    CHECK(sold.at("userId") == "waiter-w3");

    // Relisted by its new owner: bought, and waited for, again.
    REQUIRE(waiter->post("/api/tickets/" + id + "/resale", R"({"price":25})").status == 200);
    app.wait_idle();
    CHECK(test::error_message(join(*later, id).body) ==
          "Ticket is not reserved");  // listed: buy it
    auto again = test::reserve(app, *holder, id);
    auto joined = join(*later, id);
    CHECK(joined.status == 201);
    CHECK(json::parse(joined.body).at("position") == 1);  // a new line
    CHECK(test::error_message(join(*waiter, id).body) == "You own this ticket");
    REQUIRE(holder->del("/api/orders/" + again).status == 204);
    CHECK(orders_for(*later, id, "created").size() == 1);
}

TEST_CASE(
    "waitlist: fifty buyers joining at the same instant get places 1 to 50 served in that order",
    "[orders][waitlist][dogpile]") {
    test::TestServer app([](Config& c) { c.threads = 2; });
    auto seller = test::as_user(app, "seller-w4");
    auto holder = test::as_user(app, "holder-w4");
    auto id = test::sell(app, *seller, "25");
    auto order = test::reserve(app, *holder, id);
    constexpr int buyers = 50;
    std::vector<std::unique_ptr<test::HttpClient>> clients;
    for (int i = 0; i < buyers; ++i) {
        clients.push_back(test::as_user(app, "waiter-w4-" + std::to_string(i)));
        clients.back()->get("/healthz");  // connect before the race starts
    }
    std::vector<std::int64_t> positions(buyers, 0);
    std::atomic<int> other{0};
    std::barrier start(buyers);
    std::vector<std::thread> threads;
    for (int i = 0; i < buyers; ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            auto res = join(*clients[i], id);
            if (res.status == 201)
                positions[i] = json::parse(res.body).at("position").as_int64();
            else
                ++other;
        });
    for (auto& t : threads) t.join();
    REQUIRE(other == 0);
    std::map<std::int64_t, int> by_position;  // position -> client
    for (int i = 0; i < buyers; ++i) by_position[positions[i]] = i;
    REQUIRE(by_position.size() == buyers);
    CHECK(by_position.begin()->first == 1);
    CHECK(by_position.rbegin()->first == buyers);
    for (int i = 0; i < buyers; ++i) CHECK(place(*clients[i], id).at("position") == positions[i]);

    // Each reservation's end hands the ticket to the next place, strictly in order.
    std::string current = order;
    test::HttpClient* current_holder = holder.get();
    for (auto& [position, i] : by_position) {
        REQUIRE(current_holder->del("/api/orders/" + current).status == 204);
        auto handed = orders_for(*clients[i], id, "created");
        REQUIRE(handed.size() == 1);
        current = std::string(handed[0].at("id").as_string());
        current_holder = clients[i].get();
        if (position == 5) break;  // the rest only repeat it
    }
    CHECK(place(*clients[by_position.rbegin()->second], id).at("position") == buyers - 5);
    app.wait_idle();
    CHECK(holding_orders(app, id) == 1);
    CHECK(held_by(app, id) == current);
}

TEST_CASE(
    "waitlist: a handover racing a cancel or an expiry or a payment ends with exactly one order "
    "holding",
    "[orders][waitlist][race]") {
    test::ClockedApp c;
    auto& app = *c.app;
    auto seller = test::as_user(app, "seller-w5");
    int paid = 0, handed = 0;
    for (int round = 0; round < 12; ++round) {
        auto tag = std::to_string(round);
        auto holder = test::as_user(app, "holder-w5-" + tag);
        auto waiter = test::as_user(app, "waiter-w5-" + tag);
        auto direct = test::as_user(app, "direct-w5-" + tag);
        auto id = test::sell(app, *seller, "25");
        auto order = test::reserve(app, *holder, id);
        REQUIRE(join(*waiter, id).status == 201);
        std::barrier start(3);
        int direct_status = 0;
        std::thread pay([&] {
            start.arrive_and_wait();
            test::pay(*holder, order);
        });
        std::thread end([&] {
            start.arrive_and_wait();
            if (round % 2 == 0)
                holder->del("/api/orders/" + order);
            else
                c.clock.advance(std::chrono::seconds(61));  // the expiry fires now
        });
        std::thread buy([&] {
            start.arrive_and_wait();
            direct_status = direct->post("/api/orders", R"({"ticketId":")" + id + R"("})").status;
        });
        pay.join();
        end.join();
        buy.join();
        app.wait_idle();
        CAPTURE(round);
        CHECK(direct_status == 400);  // never slips in: the holder, then the line
        CHECK(holding_orders(app, id) == 1);
        auto status = test::status_of(*holder, order);
        auto waiter_orders = orders_for(*waiter, id, "created");
        if (status == "complete") {
            ++paid;
            CHECK(waiter_orders.empty());  // sold: the line was cleared
            CHECK(place(*waiter, id).at("length") == 0);
            CHECK(held_by(app, id) == order);
        } else {
            ++handed;
            CHECK(status == "cancelled");
            REQUIRE(waiter_orders.size() == 1);
            CHECK(held_by(app, id) == std::string(waiter_orders[0].at("id").as_string()));
        }
    }
    CHECK(paid + handed == 12);
}
