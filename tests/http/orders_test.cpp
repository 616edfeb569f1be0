#include <atomic>
#include <barrier>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "db/database.hpp"
#include "support/db_query.hpp"
#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/test_server.hpp"
#include "util/time_format.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

std::string message(const test::HttpResponse& r, int i = 0) {
    return test::error_message(r.body, i);
}
std::string create_ticket(test::TestServer& app, test::HttpClient& seller,
                          const std::string& price = "10") {
    auto res = seller.post("/api/tickets", R"({"title":"Show","price":)" + price + "}");
    REQUIRE(res.status == 201);
    app.wait_idle();  // the orders module learns of it through the bus
    return std::string(json::parse(res.body).at("id").as_string());
}
test::HttpResponse order(test::HttpClient& buyer, const std::string& ticket_id) {
    return buyer.post("/api/orders", R"({"ticketId":")" + ticket_id + R"("})");
}
std::vector<std::string> listed_ids(test::HttpClient& c) {
    auto list = json::parse(c.get("/api/tickets").body);
    std::vector<std::string> ids;
    for (auto& t : list.as_array()) ids.emplace_back(t.at("id").as_string());
    return ids;
}
bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TEST_CASE("ordering reserves the ticket for the reservation window", "[orders]") {
    test::TestServer app([](Config& c) { c.reservation_window_seconds = 900; });
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto ticket_id = create_ticket(app, *seller, "19.99");
    auto before = std::chrono::system_clock::now();
    auto res = order(*buyer, ticket_id);
    REQUIRE(res.status == 201);
    auto o = json::parse(res.body);
    CHECK(o.at("status") == "created");
    CHECK(o.at("userId") == "buyer");
    CHECK(o.at("version") == 0);
    CHECK(o.at("ticket").at("id").as_string() == ticket_id);
    CHECK(o.at("ticket").at("title") == "Show");
    CHECK(o.at("ticket").at("price").as_double() == 19.99);
    CHECK(o.at("ticket").at("version") == 0);
    auto expires = util::parse_rfc3339(o.at("expiresAt").as_string()).value();
    CHECK(expires >= before + std::chrono::seconds(899));
    CHECK(expires <= std::chrono::system_clock::now() + std::chrono::seconds(901));

    app.wait_idle();
    auto t = json::parse(seller->get("/api/tickets/" + ticket_id).body);
    CHECK(t.at("orderId") == o.at("id"));
    CHECK(t.at("version") == 1);
    CHECK(!contains(listed_ids(*seller), ticket_id));
    auto edit = seller->put("/api/tickets/" + ticket_id, R"({"title":"Show","price":50})");
    CHECK(edit.status == 400);
    CHECK(message(edit) == "Cannot edit a reserved ticket");

    auto mine = json::parse(buyer->get("/api/orders").body).as_array();
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].at("id") == o.at("id"));
    CHECK(json::parse(seller->get("/api/orders").body).as_array().empty());
}

TEST_CASE("a cancelled order releases the ticket for someone else", "[orders]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller");
    auto first = test::as_user(app, "first");
    auto second = test::as_user(app, "second");
    auto ticket_id = create_ticket(app, *seller);
    auto o = json::parse(order(*first, ticket_id).body);
    std::string url = "/api/orders/" + std::string(o.at("id").as_string());
    CHECK(message(order(*second, ticket_id)) == "Ticket is already reserved");
    CHECK(first->del(url).status == 204);
    auto cancelled = json::parse(first->get(url).body);
    CHECK(cancelled.at("status") == "cancelled");
    CHECK(cancelled.at("version") == 1);
    CHECK(first->del(url).status == 204);  // again: nothing changes
    CHECK(json::parse(first->get(url).body).at("version") == 1);
    app.wait_idle();
    auto t = json::parse(seller->get("/api/tickets/" + ticket_id).body);
    CHECK(!t.as_object().contains("orderId"));
    CHECK(t.at("version") == 2);
    CHECK(contains(listed_ids(*seller), ticket_id));
    auto again = order(*second, ticket_id);
    CHECK(again.status == 201);
    app.wait_idle();
    CHECK(json::parse(seller->get("/api/tickets/" + ticket_id).body).at("orderId") ==
          json::parse(again.body).at("id"));
    CHECK(test::query_int(app.app().database("bus"),
                          "SELECT count(*) FROM events WHERE subject = 'order:cancelled'") == 1);
}

TEST_CASE("order routes refuse what the API says they refuse", "[orders]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto stranger = test::as_user(app, "stranger");
    test::HttpClient anonymous(app.port());
    auto ticket_id = create_ticket(app, *seller);

    CHECK(anonymous.post("/api/orders", R"({"ticketId":"x"})").status == 401);
    CHECK(anonymous.get("/api/orders").status == 401);
    auto missing = buyer->post("/api/orders", "{}");
    CHECK(missing.status == 400);
    CHECK(message(missing) == "TicketId must be provided");
    CHECK(message(buyer->post("/api/orders", R"({"ticketId":42})")) == "TicketId must be provided");
    CHECK(message(buyer->post("/api/orders", R"({"ticketId":"  "})")) ==
          "TicketId must be provided");
    CHECK(order(*buyer, "no-such-ticket").status == 404);

    auto o = json::parse(order(*buyer, ticket_id).body);
    std::string url = "/api/orders/" + std::string(o.at("id").as_string());
    CHECK(buyer->get(url).status == 200);
    CHECK(anonymous.get(url).status == 401);
    CHECK(stranger->get(url).status == 401);
    CHECK(stranger->del(url).status == 401);
    CHECK(buyer->get("/api/orders/unknown").status == 404);
    CHECK(buyer->del("/api/orders/unknown").status == 404);
    CHECK(json::parse(buyer->get(url).body).at("status") ==
          "created");  // the stranger changed nothing

    // A complete order cannot be cancelled.
    {
        db::WriteTx tx(app.app().database("orders"));
        tx.exec("UPDATE orders SET status = 'complete'");
        tx.commit();
    }
    auto refused = buyer->del(url);
    CHECK(refused.status == 400);
    CHECK(message(refused) == "Cannot cancel a complete order");
}

TEST_CASE("two hundred buyers pressing buy at the same instant get exactly one order",
          "[orders][dogpile]") {
    test::TestServer app([](Config& c) { c.threads = 2; });
    auto seller = test::as_user(app, "seller");
    auto ticket_id = create_ticket(app, *seller);
    constexpr int buyers = 200;
    std::vector<std::unique_ptr<test::HttpClient>> clients;
    for (int i = 0; i < buyers; ++i) {
        clients.push_back(test::as_user(app, "buyer-" + std::to_string(i)));
        clients.back()->get("/healthz");  // connect before the race starts
    }
    std::atomic<int> created{0}, reserved{0}, other{0};
    std::barrier start(buyers);
    std::vector<std::thread> threads;
    for (int i = 0; i < buyers; ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            auto res = order(*clients[i], ticket_id);
            if (res.status == 201)
                ++created;
            else if (res.status == 400 && message(res) == "Ticket is already reserved")
                ++reserved;
            else
                ++other;
        });
    for (auto& t : threads) t.join();
    CHECK(created == 1);
    CHECK(reserved == buyers - 1);
    CHECK(other == 0);
    app.wait_idle();
    CHECK(test::query_int(app.app().database("orders"), "SELECT count(*) FROM orders") == 1);
    CHECK(test::query_int(app.app().database("bus"),
                          "SELECT count(*) FROM events WHERE subject = 'order:created'") == 1);
    CHECK(test::query_int(app.app().database("tickets"), "SELECT version FROM tickets") == 1);
}

TEST_CASE("a price edit racing a purchase always ends consistent", "[orders][race]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    int refused_edits = 0, accepted_edits = 0;
    for (int round = 0; round < 25; ++round) {
        auto ticket_id = create_ticket(app, *seller, "10");
        std::barrier start(2);
        test::HttpResponse edit, placed;
        std::thread editor([&] {
            start.arrive_and_wait();
            edit = seller->put("/api/tickets/" + ticket_id, R"({"title":"Show","price":99})");
        });
        std::thread purchaser([&] {
            start.arrive_and_wait();
            placed = order(*buyer, ticket_id);
        });
        editor.join();
        purchaser.join();
        REQUIRE(placed.status == 201);
        app.wait_idle();
        auto o = json::parse(placed.body);
        // The order charges the price of the ticket version it was placed against.
        auto version = o.at("ticket").at("version").as_int64();
        double expected = version == 0 ? 10.0 : 99.0;
        CHECK(o.at("ticket").at("price").to_number<double>() == expected);
        if (edit.status == 400) {
            CHECK(message(edit) == "Cannot edit a reserved ticket");
            ++refused_edits;
        } else {
            CHECK(edit.status == 200);
            ++accepted_edits;
        }
        // Both modules agree on the final state of the ticket.
        std::string where = " FROM tickets WHERE id = '" + ticket_id + "'";
        auto& tickets_db = app.app().database("tickets");
        auto& orders_db = app.app().database("orders");
        CHECK(test::query_int(tickets_db, "SELECT version" + where) ==
              test::query_int(orders_db, "SELECT version" + where));
        CHECK(test::query_int(tickets_db, "SELECT price_cents" + where) ==
              test::query_int(orders_db, "SELECT price_cents" + where));
        CHECK(test::query_text(tickets_db, "SELECT order_id" + where) ==
              std::string(o.at("id").as_string()));
        CHECK(test::query_text(orders_db, "SELECT order_id" + where) ==
              std::string(o.at("id").as_string()));
    }
    CHECK(refused_edits + accepted_edits == 25);
}

TEST_CASE("a dead-lettered ticket update holds back none of the ticket's later updates",
          "[orders][bus][faults]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller");
    auto ticket_id = create_ticket(app, *seller);
    {
        // A poison ticket:updated (version 2) that no subscriber can read, as a bug in a
        // publisher could write it. The next real edit is version 3.
        db::WriteTx tx(app.app().database("tickets"));
        tx.exec("UPDATE tickets SET version = 2 WHERE id = '" + ticket_id + "'");
        tx.exec(
            "INSERT INTO outbox (event_id, subject, payload, created_at) VALUES ('poison-v2', "
            "'ticket:updated', "
            "'{\"id\":\"" +
            ticket_id + "\",\"version\":\"two\"}', 0)");
        tx.commit();
    }
    REQUIRE(seller->put("/api/tickets/" + ticket_id, R"({"title":"After the poison","price":42})")
                .status == 200);
    app.wait_idle();
    auto& orders = app.app().database("orders");
    CHECK(test::query_int(orders, "SELECT version FROM tickets WHERE id = '" + ticket_id + "'") ==
          3);
    CHECK(test::query_text(orders, "SELECT title FROM tickets WHERE id = '" + ticket_id + "'") ==
          "After the poison");
    auto& bus = app.app().database("bus");
    CHECK(test::query_int(bus, "SELECT count(*) FROM dead_letters WHERE event_id = 'poison-v2'") >=
          1);
    CHECK(test::query_int(bus, "SELECT count(*) FROM dead_letters WHERE event_id != 'poison-v2'") ==
          0);
    // The order path works on the new state: the price charged is the edited one.
    auto buyer = test::as_user(app, "buyer");
    auto order = buyer->post("/api/orders", R"({"ticketId":")" + ticket_id + R"("})");
    REQUIRE(order.status == 201);
    CHECK(json::parse(order.body).at("ticket").at("price") == 42);
}
