// Ownership (API.md, "Ownership and resale"): a completed order passes its ticket to the buyer,
// the face value, and the ticket's public history. Against a real server.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/db_query.hpp"
#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/shop.hpp"
#include "support/test_server.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

json::object ticket(test::HttpClient& c, const std::string& id) {
    auto res = c.get("/api/tickets/" + id);
    REQUIRE(res.status == 200);
    return json::parse(res.body).as_object();
}

json::array history(test::HttpClient& c, const std::string& id) {
    auto res = c.get("/api/tickets/" + id + "/history");
    REQUIRE(res.status == 200);
    return json::parse(res.body).as_array();
}

std::vector<std::string> events_of(const json::array& h) {
    std::vector<std::string> out;
    for (auto& e : h) out.emplace_back(e.at("event").as_string());
    return out;
}

}  // namespace

TEST_CASE(
    "a completed order passes the ticket to its buyer, off the listing, with one version more",
    "[tickets][ownership]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-o1");
    auto buyer = test::as_user(app, "buyer-o1");
    auto id = test::sell(app, *seller, "30");
    auto order = test::reserve(app, *buyer, id);
    auto reserved = ticket(*buyer, id);
    CHECK(reserved.at("userId") == "seller-o1");
    REQUIRE(test::pay(*buyer, order).status == 201);
    app.wait_idle();
    auto sold = ticket(*buyer, id);
    CHECK(sold.at("userId") == "buyer-o1");
    CHECK(sold.at("orderId").as_string() == order);
    CHECK(sold.at("version").as_int64() == reserved.at("version").as_int64() + 1);
    CHECK(sold.at("faceValue") == 30);
    CHECK(seller->get("/api/tickets").body.find(id) == std::string::npos);
    // The orders replica heard of the new owner (ticket:updated, like any change).
    CHECK(test::query_text(app.app().database("orders"),
                           "SELECT user_id FROM tickets WHERE id = '" + id + "'") == "buyer-o1");
    // The former owner can no longer edit it; the new one cannot while the sale holds it.
    auto by_seller = seller->put("/api/tickets/" + id, R"({"title":"Mine again","price":30})");
    CHECK(by_seller.status == 401);
    auto by_buyer = buyer->put("/api/tickets/" + id, R"({"title":"Mine","price":30})");
    CHECK(by_buyer.status == 400);
    CHECK(test::error_message(by_buyer.body) == "Cannot edit a reserved ticket");
    CHECK(ticket(*buyer, id).at("version") == sold.at("version"));
}

TEST_CASE("the face value follows the price until the first sale, then stays what the buyer paid",
          "[tickets][ownership]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-o2");
    auto buyer = test::as_user(app, "buyer-o2");
    auto id = test::sell(app, *seller, "20");
    CHECK(ticket(*seller, id).at("faceValue") == 20);
    REQUIRE(seller->put("/api/tickets/" + id, R"({"title":"Final","price":"24.99"})").status ==
            200);
    CHECK(ticket(*seller, id).at("faceValue").as_double() == 24.99);
    app.wait_idle();
    auto order = test::reserve(app, *buyer, id);
    REQUIRE(test::pay(*buyer, order).status == 201);
    app.wait_idle();
    CHECK(ticket(*buyer, id).at("faceValue").as_double() == 24.99);
    CHECK(ticket(*buyer, id).at("price").as_double() == 24.99);
}

TEST_CASE("a ticket's history: listed, each price change, sold, oldest first and without user ids",
          "[tickets][ownership][history]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-o3");
    auto buyer = test::as_user(app, "buyer-o3");
    auto id = test::sell(app, *seller, "20");
    REQUIRE(seller->put("/api/tickets/" + id, R"({"title":"Final","price":25})").status == 200);
    REQUIRE(seller->put("/api/tickets/" + id, R"({"title":"Renamed","price":25})").status ==
            200);  // title only
    REQUIRE(seller->put("/api/tickets/" + id, R"({"title":"Renamed","price":22.5})").status == 200);
    app.wait_idle();
    auto order = test::reserve(app, *buyer, id);
    // A reservation, and its end, are not history.
    CHECK(events_of(history(*buyer, id)) ==
          std::vector<std::string>{"listed", "price-changed", "price-changed"});
    REQUIRE(test::pay(*buyer, order).status == 201);
    app.wait_idle();
    test::HttpClient anonymous(app.port());
    auto h = history(anonymous, id);  // public
    CHECK(events_of(h) ==
          std::vector<std::string>{"listed", "price-changed", "price-changed", "sold"});
    std::vector<double> prices;
    for (auto& e : h) prices.push_back(e.at("price").to_number<double>());
    CHECK(prices == std::vector<double>{20, 25, 22.5, 22.5});
    std::string last;
    for (auto& e : h) {
        auto at = std::string(e.at("at").as_string());
        CHECK(at.size() == 24);  // 2026-12-02T03:04:05.678Z
        CHECK(at.back() == 'Z');
        CHECK(at >= last);
        last = at;
        CHECK(e.as_object().size() == 3);  // at, event, price: no user ids
    }
    auto body = anonymous.get("/api/tickets/" + id + "/history").body;
    CHECK(body.find("seller-o3") == std::string::npos);
    CHECK(body.find("buyer-o3") == std::string::npos);
    CHECK(anonymous.get("/api/tickets/no-such-ticket/history").status == 404);
}

TEST_CASE("a cancelled reservation adds nothing to the history and leaves the owner",
          "[tickets][ownership]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-o4");
    auto buyer = test::as_user(app, "buyer-o4");
    auto id = test::sell(app, *seller, "15");
    auto order = test::reserve(app, *buyer, id);
    REQUIRE(buyer->del("/api/orders/" + order).status == 204);
    app.wait_idle();
    CHECK(ticket(*seller, id).at("userId") == "seller-o4");
    CHECK(!ticket(*seller, id).contains("orderId"));
    CHECK(events_of(history(*seller, id)) == std::vector<std::string>{"listed"});
}
