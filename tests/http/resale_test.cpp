// Resale (API.md, "Ownership and resale"): a bought ticket relisted by its owner, the cap on its
// price, and the owner's own listing (?owner=me). Against a real server.
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

std::vector<std::string> history_events(test::HttpClient& c, const std::string& id) {
    auto h = json::parse(c.get("/api/tickets/" + id + "/history").body);
    std::vector<std::string> out;
    for (auto& e : h.as_array()) out.emplace_back(e.at("event").as_string());
    return out;
}

test::HttpResponse resell(test::HttpClient& c, const std::string& id, const std::string& price) {
    return c.post("/api/tickets/" + id + "/resale", R"({"price":)" + price + "}");
}

// Sells a ticket at `price` from `seller` to `buyer`, paid and passed on; returns its id.
std::string bought(test::TestServer& app, test::HttpClient& seller, test::HttpClient& buyer,
                   const std::string& price = "40") {
    auto id = test::sell(app, seller, price);
    auto order = test::reserve(app, buyer, id);
    REQUIRE(test::pay(buyer, order).status == 201);
    app.wait_idle();
    return id;
}

std::vector<std::string> ids_of(const std::string& body) {
    auto list = json::parse(body);
    std::vector<std::string> out;
    for (auto& t : list.as_array()) out.emplace_back(t.at("id").as_string());
    return out;
}

}  // namespace

TEST_CASE(
    "a bought ticket relisted by its owner is an ordinary listing that is bought and passed on "
    "again",
    "[tickets][resale]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-r1");
    auto first = test::as_user(app, "first-r1");
    auto second = test::as_user(app, "second-r1");
    auto id = bought(app, *seller, *first, "40");
    auto sold = ticket(*first, id);
    auto res = resell(*first, id, "35.5");
    REQUIRE(res.status == 200);
    auto relisted = json::parse(res.body).as_object();
    CHECK(!relisted.contains("orderId"));
    CHECK(relisted.at("price").as_double() == 35.5);
    CHECK(relisted.at("userId") == "first-r1");
    CHECK(relisted.at("version").as_int64() == sold.at("version").as_int64() + 1);
    CHECK(relisted.at("faceValue") == 40);
    CHECK(ticket(*second, id) == relisted);
    CHECK(history_events(*second, id) == std::vector<std::string>{"listed", "sold", "relisted"});
    app.wait_idle();
    // Listed and searchable again; bought again by someone else, at the new price.
    CHECK(second->get("/api/tickets?q=final").body.find(id) != std::string::npos);
    auto order = test::reserve(app, *second, id);
    auto placed = json::parse(second->get("/api/orders/" + order).body);
    CHECK(placed.at("ticket").at("price").as_double() == 35.5);
    REQUIRE(test::pay(*second, order).status == 201);
    app.wait_idle();
    auto resold = ticket(*second, id);
    CHECK(resold.at("userId") == "second-r1");
    CHECK(resold.at("orderId").as_string() == order);
    CHECK(resold.at("faceValue") == 40);  // the first buyer's price, for good
    CHECK(history_events(*second, id) ==
          std::vector<std::string>{"listed", "sold", "relisted", "sold"});
    // The first buyer's order stays complete: that is their purchase.
    auto orders = json::parse(first->get("/api/orders").body);
    REQUIRE(orders.as_array().size() == 1);
    CHECK(orders.as_array()[0].at("status") == "complete");
    // Resold again by its new owner, not by the one before.
    CHECK(resell(*first, id, "30").status == 401);
    CHECK(resell(*second, id, "30").status == 200);
}

TEST_CASE("resale refuses what the API says it refuses and changes nothing", "[tickets][resale]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-r2");
    auto buyer = test::as_user(app, "buyer-r2");
    auto stranger = test::as_user(app, "stranger-r2");
    auto id = bought(app, *seller, *buyer, "40");
    auto before = ticket(*buyer, id);

    CHECK(resell(*buyer, "no-such-ticket", "30").status == 404);
    test::HttpClient anonymous(app.port());
    CHECK(anonymous.post("/api/tickets/" + id + "/resale", R"({"price":30})").status == 401);
    CHECK(resell(*seller, id, "30").status == 401);  // it changed hands
    CHECK(resell(*stranger, id, "30").status == 401);

    auto bad_price = resell(*buyer, id, "0");
    CHECK(bad_price.status == 400);
    CHECK(test::error_message(bad_price.body) == "Price must be greater than 0");
    CHECK(test::error_field(bad_price.body) == "price");
    CHECK(test::error_message(resell(*buyer, id, "10.123").body) ==
          "Price must have at most two decimals");
    CHECK(test::error_message(buyer->post("/api/tickets/" + id + "/resale", "{}").body) ==
          "Price must be greater than 0");
    auto over = resell(*buyer, id, "40.01");
    CHECK(over.status == 400);
    CHECK(test::error_message(over.body) == "Price must be at most the face value");
    CHECK(test::error_field(over.body) == "price");
    CHECK(ticket(*buyer, id) == before);
    // The body is checked before the record and its owner (API.md's order of checks).
    CHECK(resell(*buyer, "no-such-ticket", "0").status == 400);
    CHECK(resell(*stranger, id, "0").status == 400);
    CHECK(test::error_field(resell(*seller, id, "-1").body) == "price");

    // A ticket never bought, and one already relisted, are edited with PUT instead.
    auto fresh = test::sell(app, *seller, "20");
    auto never = resell(*seller, fresh, "20");
    CHECK(never.status == 400);
    CHECK(test::error_message(never.body) == "Ticket is not sold");
    REQUIRE(resell(*buyer, id, "40").status == 200);  // exactly the face value is allowed
    auto twice = resell(*buyer, id, "39");
    CHECK(twice.status == 400);
    CHECK(test::error_message(twice.body) == "Ticket is not sold");
    // A ticket reserved by someone (not sold) is not resellable either.
    app.wait_idle();
    test::reserve(app, *stranger, id);
    CHECK(test::error_message(resell(*buyer, id, "30").body) == "Ticket is not sold");
    CHECK(history_events(*buyer, id) == std::vector<std::string>{"listed", "sold", "relisted"});
}

TEST_CASE("a ticket sold once keeps the resale cap through PUT", "[tickets][resale]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-r3");
    auto buyer = test::as_user(app, "buyer-r3");
    auto id = bought(app, *seller, *buyer, "50");
    REQUIRE(resell(*buyer, id, "45").status == 200);
    auto up = buyer->put("/api/tickets/" + id, R"({"title":"Final","price":50.01})");
    CHECK(up.status == 400);
    CHECK(test::error_message(up.body) == "Price must be at most the face value");
    CHECK(test::error_field(up.body) == "price");
    CHECK(ticket(*buyer, id).at("price") == 45);
    auto ok = buyer->put("/api/tickets/" + id, R"({"title":"Final","price":50})");
    CHECK(ok.status == 200);
    CHECK(history_events(*buyer, id) ==
          std::vector<std::string>{"listed", "sold", "relisted", "price-changed"});
    // Before the first sale there is no cap: the price is the face value.
    auto fresh = test::sell(app, *seller, "20");
    CHECK(seller->put("/api/tickets/" + fresh, R"({"title":"Final","price":900})").status == 200);
}

TEST_CASE("the resale cap percent option sets the cap and 0 removes it", "[tickets][resale]") {
    SECTION("150 percent") {
        test::TestServer app([](Config& c) { c.resale_cap_percent = 150; });
        auto seller = test::as_user(app, "seller-r4");
        auto buyer = test::as_user(app, "buyer-r4");
        auto id = bought(app, *seller, *buyer, "20");
        CHECK(test::error_message(resell(*buyer, id, "30.01").body) ==
              "Price must be at most the face value");
        CHECK(resell(*buyer, id, "30").status == 200);
        CHECK(json::parse(buyer->get("/api/config").body).at("resaleCapPercent") == 150);
    }
    SECTION("no cap") {
        test::TestServer app([](Config& c) { c.resale_cap_percent = 0; });
        auto seller = test::as_user(app, "seller-r5");
        auto buyer = test::as_user(app, "buyer-r5");
        auto id = bought(app, *seller, *buyer, "20");
        CHECK(resell(*buyer, id, "1000000").status == 200);
    }
}

TEST_CASE("the owner listing holds what the caller owns now with search and sort and paging",
          "[tickets][resale][search]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller-r6");
    auto buyer = test::as_user(app, "buyer-r6");
    auto other = test::as_user(app, "other-r6");
    auto listed = seller->post("/api/tickets", R"({"title":"Radiohead OK Computer","price":30})");
    auto reserved = seller->post("/api/tickets", R"({"title":"Beyoncé Renaissance","price":80})");
    auto sold = seller->post("/api/tickets", R"({"title":"Radiohead Kid A","price":55})");
    REQUIRE(other->post("/api/tickets", R"({"title":"Radiohead In Rainbows","price":20})").status ==
            201);
    auto id = [](const test::HttpResponse& r) {
        return std::string(json::parse(r.body).at("id").as_string());
    };
    app.wait_idle();
    test::reserve(app, *buyer, id(reserved));
    auto order = test::reserve(app, *buyer, id(sold));
    REQUIRE(test::pay(*buyer, order).status == 201);
    app.wait_idle();

    // Signed in is checked before the parameters.
    test::HttpClient anonymous(app.port());
    CHECK(anonymous.get("/api/tickets?owner=me&limit=500").status == 401);
    CHECK(anonymous.get("/api/tickets?owner=you").status == 401);
    CHECK(test::error_field(seller->get("/api/tickets?owner=you").body) == "owner");

    auto mine = seller->get("/api/tickets?owner=me");
    REQUIRE(mine.status == 200);
    CHECK(ids_of(mine.body) == std::vector<std::string>{id(reserved), id(listed)});  // newest first
    CHECK(mine.header("X-Total-Count") == "2");
    CHECK(ids_of(buyer->get("/api/tickets?owner=me").body) == std::vector<std::string>{id(sold)});

    auto radio = seller->get("/api/tickets?owner=me&q=radio");
    CHECK(ids_of(radio.body) ==
          std::vector<std::string>{id(listed)});  // not other's, not the sold one
    CHECK(radio.header("X-Total-Count") == "1");
    CHECK(ids_of(seller->get("/api/tickets?owner=me&q=beyonce").body) ==
          std::vector<std::string>{id(reserved)});
    CHECK(ids_of(seller->get("/api/tickets?owner=me&sort=price").body) ==
          std::vector<std::string>{id(listed), id(reserved)});
    CHECK(ids_of(seller->get("/api/tickets?owner=me&sort=-price").body) ==
          std::vector<std::string>{id(reserved), id(listed)});
    CHECK(ids_of(seller->get("/api/tickets?owner=me&minPrice=50").body) ==
          std::vector<std::string>{id(reserved)});
    auto paged = seller->get("/api/tickets?owner=me&limit=1&offset=1");
    CHECK(ids_of(paged.body) == std::vector<std::string>{id(listed)});
    CHECK(paged.header("X-Total-Count") == "2");
    CHECK(ids_of(buyer->get("/api/tickets?owner=me&q=kid").body) ==
          std::vector<std::string>{id(sold)});
    // A relisted ticket is still its owner's.
    REQUIRE(resell(*buyer, id(sold), "50").status == 200);
    CHECK(ids_of(buyer->get("/api/tickets?owner=me").body) == std::vector<std::string>{id(sold)});

    CHECK(anonymous.get("/api/tickets?owner=me").status == 401);
    auto bad = seller->get("/api/tickets?owner=seller-r6&limit=500");
    CHECK(bad.status == 400);
    CHECK(test::error_message(bad.body, 0) == "limit must be an integer from 0 to 200");
    CHECK(test::error_field(bad.body, 1) == "owner");
    CHECK(test::error_message(bad.body, 1) == "owner must be \"me\"");
}
