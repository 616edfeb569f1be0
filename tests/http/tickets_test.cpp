#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/db_query.hpp"
#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/test_server.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

std::string message(const test::HttpResponse& r, int i = 0) {
    return test::error_message(r.body, i);
}
std::string field(const test::HttpResponse& r, int i = 0) { return test::error_field(r.body, i); }
json::object create_ticket(test::HttpClient& c, const std::string& title,
                           const std::string& price) {
    auto res = c.post("/api/tickets", R"({"title":")" + title + R"(","price":)" + price + "}");
    REQUIRE(res.status == 201);
    return json::parse(res.body).as_object();
}

}  // namespace

TEST_CASE("a signed-in user lists a ticket with an exact price", "[tickets]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-1");
    auto t = create_ticket(*seller, "  Concert  ", "19.99");
    CHECK(t.at("title") == "Concert");
    CHECK(t.at("price").as_double() == 19.99);
    CHECK(t.at("userId") == "seller-1");
    CHECK(t.at("version") == 0);
    CHECK(!t.contains("orderId"));
    app.wait_idle();
    auto& db = app.app().database("tickets");
    CHECK(test::query_int(db, "SELECT price_cents FROM tickets") == 1999);
    auto res = seller->get("/api/tickets/" + std::string(t.at("id").as_string()));
    CHECK(res.status == 200);
    CHECK(res.body.find(R"("price":19.99)") != std::string::npos);  // written as a plain number
    // As HTML forms send it: a numeric string.
    auto s = seller->post("/api/tickets", R"({"title":"Form","price":"12.50"})");
    CHECK(s.status == 201);
    CHECK(json::parse(s.body).at("price").as_double() == 12.5);
    CHECK(json::parse(seller->post("/api/tickets", R"({"title":"Whole","price":20})").body)
              .at("price") == 20);
    // The ticket:created events reached the orders replica.
    app.wait_idle();
    CHECK(test::query_int(app.app().database("orders"), "SELECT count(*) FROM tickets") == 3);
}

TEST_CASE("creating a ticket requires a session and a valid body", "[tickets]") {
    test::TestServer app;
    test::HttpClient anonymous(app.port());
    auto r = anonymous.post("/api/tickets", R"({"title":"x","price":10})");
    CHECK(r.status == 401);
    CHECK(message(r) == "Not authorized");
    auto seller = test::as_user(app, "s");
    auto both = seller->post("/api/tickets", R"({"title":"   ","price":-10})");
    CHECK(both.status == 400);
    CHECK(message(both, 0) == "Title is required");
    CHECK(field(both, 0) == "title");
    CHECK(message(both, 1) == "Price must be greater than 0");
    CHECK(field(both, 1) == "price");
    auto price_message = [&](const std::string& price) {
        return message(seller->post("/api/tickets", R"({"title":"ok","price":)" + price + "}"));
    };
    CHECK(price_message("0") == "Price must be greater than 0");
    CHECK(price_message("\"abc\"") == "Price must be greater than 0");
    CHECK(price_message("null") == "Price must be greater than 0");
    CHECK(price_message("\"\"") == "Price must be greater than 0");
    CHECK(price_message("12.345") == "Price must have at most two decimals");
    CHECK(price_message("\"0.001\"") == "Price must have at most two decimals");
    CHECK(price_message("1000000.01") == "Price must be at most 1000000");
    CHECK(price_message("1e300") == "Price must be at most 1000000");
    CHECK(seller->post("/api/tickets", R"({"title":"max","price":1000000})").status == 201);
    CHECK(message(seller->post("/api/tickets", R"({"price":5})")) == "Title is required");
    CHECK(message(seller->post("/api/tickets",
                               R"({"title":")" + std::string(201, 'x') + R"(","price":5})")) ==
          "Title must be at most 200 characters");
    CHECK(seller->post("/api/tickets", R"({"title":")" + std::string(200, 'x') + R"(","price":5})")
              .status == 201);
    app.wait_idle();
    CHECK(test::query_int(app.app().database("tickets"), "SELECT count(*) FROM tickets") == 2);
}

TEST_CASE("SQL metacharacters and unicode in a title are stored and returned verbatim",
          "[tickets][security]") {
    test::TestServer app;
    auto seller = test::as_user(app, "s");
    std::string title =
        "Robert'); DROP TABLE tickets;-- \xF0\x9F\x8E\xB8 \xC3\xA9t\xC3\xA9 \\\"q\\\"";
    auto t = create_ticket(*seller, title, "5");
    auto back =
        json::parse(seller->get("/api/tickets/" + std::string(t.at("id").as_string())).body);
    CHECK(back.at("title") ==
          "Robert'); DROP TABLE tickets;-- \xF0\x9F\x8E\xB8 \xC3\xA9t\xC3\xA9 \"q\"");
}

TEST_CASE("the listing shows unreserved tickets newest first, paginated by limit and offset",
          "[tickets]") {
    test::TestServer app;
    auto seller = test::as_user(app, "s");
    for (int i = 0; i < 5; ++i) create_ticket(*seller, "t" + std::to_string(i), "1");
    auto titles = [&](const std::string& query) {
        auto res = seller->get("/api/tickets" + query);
        REQUIRE(res.status == 200);
        std::vector<std::string> out;
        auto list = json::parse(res.body);
        for (auto& t : list.as_array()) out.emplace_back(t.at("title").as_string());
        return out;
    };
    CHECK(titles("") == std::vector<std::string>{"t4", "t3", "t2", "t1", "t0"});
    CHECK(titles("?limit=2") == std::vector<std::string>{"t4", "t3"});
    CHECK(titles("?limit=2&offset=2") == std::vector<std::string>{"t2", "t1"});
    CHECK(titles("?offset=10").empty());
    for (auto bad :
         {"?limit=-1", "?limit=abc", "?offset=1.5", "?limit=", "?limit=201", "?offset=10001"}) {
        auto res = seller->get(std::string("/api/tickets") + bad);
        INFO(bad);
        CHECK(res.status == 400);
    }
    CHECK(field(seller->get("/api/tickets?offset=x")) == "offset");
    // Out of range is an error naming the field, never clamped; each bad parameter is named.
    auto both = seller->get("/api/tickets?limit=201&offset=-3&seller=you");
    CHECK(both.status == 400);
    CHECK(field(both, 0) == "limit");
    CHECK(test::error_message(both.body, 0) == "limit must be an integer from 0 to 200");
    CHECK(field(both, 1) == "offset");
    CHECK(test::error_message(both.body, 1) == "offset must be an integer from 0 to 10000");
    CHECK(field(both, 2) == "seller");
    CHECK(titles("?limit=200&offset=10000").empty());
    CHECK(seller->get("/api/tickets/does-not-exist").status == 404);
    CHECK(seller->get("/api/tickets/%00%27").status == 404);
}

TEST_CASE("only the owner edits a ticket, and each edit raises the version by one", "[tickets]") {
    test::TestServer app;
    auto owner = test::as_user(app, "owner");
    auto other = test::as_user(app, "other");
    auto t = create_ticket(*owner, "Gig", "10");
    std::string url = "/api/tickets/" + std::string(t.at("id").as_string());
    test::HttpClient anonymous(app.port());
    CHECK(anonymous.put(url, R"({"title":"x","price":1})").status == 401);
    CHECK(other->put(url, R"({"title":"Mine now","price":1})").status == 401);
    CHECK(owner->put("/api/tickets/nope", R"({"title":"x","price":1})").status == 404);
    CHECK(message(owner->put(url, R"({"title":"x","price":0})")) == "Price must be greater than 0");
    auto edited = owner->put(url, R"x({"title":"Gig (moved)","price":"15.5"})x");
    REQUIRE(edited.status == 200);
    auto body = json::parse(edited.body);
    CHECK(body.at("version") == 1);
    CHECK(body.at("price").as_double() == 15.5);
    CHECK(json::parse(owner->put(url, R"({"title":"Gig","price":16})").body).at("version") == 2);
    app.wait_idle();
    // The orders replica followed every version.
    CHECK(test::query_int(app.app().database("orders"), "SELECT version FROM tickets") == 2);
    CHECK(test::query_int(app.app().database("orders"), "SELECT price_cents FROM tickets") == 1600);
    CHECK(test::query_int(app.app().database("bus"),
                          "SELECT count(*) FROM events WHERE subject = 'ticket:updated'") == 2);
}

TEST_CASE("a ticket read again after each change shows the change", "[tickets][cache]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-1");
    auto buyer = test::as_user(app, "buyer-1");
    auto id = std::string(create_ticket(*seller, "Gig", "10").at("id").as_string());
    auto read = [&] { return json::parse(seller->get("/api/tickets/" + id).body).as_object(); };
    CHECK(read().at("price") == 10);  // read once: the body is now remembered
    CHECK(read().at("price") == 10);
    REQUIRE(seller->put("/api/tickets/" + id, R"({"title":"Gig","price":12.5})").status == 200);
    CHECK(read().at("price") == 12.5);  // the edit's response came after the old body was dropped
    app.wait_idle();
    auto order = buyer->post("/api/orders", R"({"ticketId":")" + id + R"("})");
    REQUIRE(order.status == 201);
    auto order_id = std::string(json::parse(order.body).at("id").as_string());
    app.wait_idle();  // tickets hears of the order through the bus
    CHECK(read().at("orderId") == order_id.c_str());
    CHECK(read().at("version") == 2);
    REQUIRE(buyer->del("/api/orders/" + order_id).status == 204);
    app.wait_idle();
    CHECK_FALSE(read().contains("orderId"));
    CHECK(read().at("version") == 3);
}
