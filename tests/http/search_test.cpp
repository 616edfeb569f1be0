// Search on the listing (API.md, "Marketplace"): GET /api/tickets?q=&minPrice=&maxPrice=&sort=
// against a real server, each rule of the section as a client sees it.
#include <functional>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "http/message.hpp"
#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/shop.hpp"
#include "support/test_server.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

std::string create_ticket(test::HttpClient& c, const std::string& title, const std::string& price) {
    auto res =
        c.post("/api/tickets", json::serialize(json::object{{"title", title}, {"price", price}}));
    REQUIRE(res.status == 201);
    return std::string(json::parse(res.body).at("id").as_string());
}

std::string encode(std::string_view s) { return http::percent_encode(s); }

struct Listing {
    int status = 0;
    std::vector<std::string> titles;
    std::string total;  // X-Total-Count
    std::string body;
};

Listing search(test::HttpClient& c, const std::string& query) {
    auto res = c.get("/api/tickets?" + query);
    Listing out{res.status, {}, res.header("X-Total-Count").value_or(""), res.body};
    if (res.status == 200) {
        auto list = json::parse(res.body);
        for (auto& t : list.as_array()) out.titles.emplace_back(t.at("title").as_string());
    }
    return out;
}

using Titles = std::vector<std::string>;

struct Shop {
    test::TestServer app;
    std::unique_ptr<test::HttpClient> seller = test::as_user(app, "seller");
    Shop() {
        // Oldest first: the listing shows newest first.
        create_ticket(*seller, "Beyoncé Renaissance", "120");
        create_ticket(*seller, "Radiohead OK Computer", "80");
        create_ticket(*seller, "AC/DC Power Up", "95.50");
        create_ticket(*seller, "Radiohead Kid A", "60");
        create_ticket(*seller, "Guns N' Roses", "80");
        create_ticket(*seller, "Coldplay", "30");
    }
};

}  // namespace

TEST_CASE("search: each word matches the start of a word, in any order, ignoring case and accents",
          "[tickets][search]") {
    Shop s;
    auto& c = *s.seller;
    CHECK(search(c, "q=beyonce").titles == Titles{"Beyoncé Renaissance"});
    CHECK(search(c, "q=BEYONC%C3%89").titles == Titles{"Beyoncé Renaissance"});
    CHECK(search(c, "q=radio%20comp").titles == Titles{"Radiohead OK Computer"});
    CHECK(search(c, "q=comp+radio").titles == Titles{"Radiohead OK Computer"});
    CHECK(search(c, "q=radiohead").titles == Titles{"Radiohead Kid A", "Radiohead OK Computer"});
    CHECK(search(c, "q=head").titles.empty());              // the start of a word, not the middle
    CHECK(search(c, "q=radio%20zeppelin").titles.empty());  // every word must match
    // Punctuation separates words, in the query and in the title.
    CHECK(search(c, "q=ac%2Fdc").titles == Titles{"AC/DC Power Up"});
    CHECK(search(c, "q=dc").titles == Titles{"AC/DC Power Up"});
    CHECK(search(c, "q=guns%2C%20roses!").titles == Titles{"Guns N' Roses"});
    CHECK(search(c, "q=%E2%80%9Ccoldplay%E2%80%9D").titles == Titles{"Coldplay"});  // “coldplay”
    // Any script's punctuation, as the index's tokenizer splits titles: an Arabic comma, a
    // reversed question mark.
    CHECK(search(c, "q=radio%D8%8Ccomp").titles == Titles{"Radiohead OK Computer"});
    CHECK(search(c, "q=radio%E2%B8%AEcomp").titles == Titles{"Radiohead OK Computer"});
}

TEST_CASE("search: an empty query, or one without a word, does not filter", "[tickets][search]") {
    Shop s;
    auto all = search(*s.seller, "").titles;
    REQUIRE(all.size() == 6);
    for (auto q : {"q=", "q=%20%20", "q=%21%3F%2F", "q=%E2%80%94", "q=%22%22"}) {
        INFO(q);
        auto l = search(*s.seller, q);
        CHECK(l.status == 200);
        CHECK(l.titles == all);
        CHECK(l.total == "6");
    }
}

TEST_CASE("search: no input is an FTS syntax error or a server error",
          "[tickets][search][security]") {
    Shop s;
    for (std::string q : {"\"",
                          "\"radio",
                          "radio\"",
                          "*",
                          "radio*",
                          "NEAR(radio comp)",
                          "radio AND comp",
                          "radio OR coldplay",
                          "NOT radio",
                          "title:radio",
                          "^radio",
                          "(radio",
                          "radio)",
                          "-radio",
                          "'; DROP TABLE tickets; --",
                          "%",
                          "+",
                          "{radio}",
                          "radio:*",
                          "\\",
                          "AND",
                          "OR",
                          "NOT",
                          "NEAR",
                          "\xff\xfe",
                          "\xc3",
                          "e\xcc\x81"}) {
        INFO(q);
        auto l = search(*s.seller, "q=" + encode(q));
        CHECK(l.status == 200);
        CHECK(!l.total.empty());
    }
    // The operators are words like any other.
    CHECK(
        search(*s.seller, "q=" + encode("radio AND comp")).titles.empty());  // no word starts "and"
    CHECK(search(*s.seller, "q=" + encode("\"radio\" comp*")).titles ==
          Titles{"Radiohead OK Computer"});
}

TEST_CASE("search: q is at most 100 characters, counted as characters", "[tickets][search]") {
    Shop s;
    std::string hundred_accented;
    for (int i = 0; i < 100; ++i) hundred_accented += "é";  // 200 bytes
    CHECK(search(*s.seller, "q=" + encode(hundred_accented)).status == 200);
    auto long_q = search(*s.seller, "q=" + std::string(101, 'a'));
    CHECK(long_q.status == 400);
    CHECK(test::error_field(long_q.body) == "q");
    CHECK(test::error_message(long_q.body) == "q must be at most 100 characters");
}

TEST_CASE("search: a price range is inclusive, in currency units, and 0 is allowed",
          "[tickets][search]") {
    Shop s;
    auto& c = *s.seller;
    CHECK(search(c, "minPrice=80&maxPrice=95.5").titles ==
          Titles{"Guns N' Roses", "AC/DC Power Up", "Radiohead OK Computer"});
    CHECK(search(c, "maxPrice=30").titles == Titles{"Coldplay"});
    CHECK(search(c, "minPrice=120").titles == Titles{"Beyoncé Renaissance"});
    CHECK(search(c, "minPrice=0&maxPrice=0").titles.empty());
    CHECK(search(c, "minPrice=0.00").titles.size() == 6);
    CHECK(search(c, "minPrice=95.51").titles == Titles{"Beyoncé Renaissance"});
    CHECK(search(c, "q=radio&maxPrice=70").titles == Titles{"Radiohead Kid A"});
    CHECK(search(c, "minPrice=50&maxPrice=50").titles.empty());
    CHECK(search(c, "minPrice=80&maxPrice=80").total == "2");
}

TEST_CASE("search: each invalid parameter is its own error, naming it", "[tickets][search]") {
    Shop s;
    auto& c = *s.seller;
    auto one = [&](const std::string& query, const std::string& field, const std::string& message) {
        INFO(query);
        auto l = search(c, query);
        CHECK(l.status == 400);
        CHECK(test::error_field(l.body) == field);
        CHECK(test::error_message(l.body) == message);
    };
    one("minPrice=-1", "minPrice", "minPrice must be a price of 0 or more");
    one("minPrice=abc", "minPrice", "minPrice must be a price of 0 or more");
    one("minPrice=", "minPrice", "minPrice must be a price of 0 or more");
    one("maxPrice=1.234", "maxPrice", "maxPrice must have at most two decimals");
    one("maxPrice=1000001", "maxPrice", "maxPrice must be at most 1000000");
    one("minPrice=50&maxPrice=40", "maxPrice", "maxPrice must be at least minPrice");
    one("sort=cheapest", "sort", "sort must be newest, price or -price");
    one("sort=", "sort", "sort must be newest, price or -price");
    one("limit=201", "limit", "limit must be an integer from 0 to 200");
    auto all = search(
        c, "q=" + std::string(101, 'x') + "&minPrice=x&maxPrice=-2&sort=up&limit=999&offset=-1");
    CHECK(all.status == 400);
    std::vector<std::string> fields;
    for (int i = 0; i < 6; ++i) fields.push_back(test::error_field(all.body, i));
    CHECK(fields ==
          std::vector<std::string>{"q", "minPrice", "maxPrice", "sort", "limit", "offset"});
}

TEST_CASE("search: sorted newest first by default, or by price either way with ties newest first",
          "[tickets][search]") {
    Shop s;
    auto& c = *s.seller;
    CHECK(search(c, "").titles == Titles{"Coldplay", "Guns N' Roses", "Radiohead Kid A",
                                         "AC/DC Power Up", "Radiohead OK Computer",
                                         "Beyoncé Renaissance"});
    CHECK(search(c, "sort=newest").titles == search(c, "").titles);
    CHECK(search(c, "sort=price").titles == Titles{"Coldplay", "Radiohead Kid A", "Guns N' Roses",
                                                   "Radiohead OK Computer", "AC/DC Power Up",
                                                   "Beyoncé Renaissance"});
    CHECK(search(c, "sort=-price").titles == Titles{"Beyoncé Renaissance", "AC/DC Power Up",
                                                    "Guns N' Roses", "Radiohead OK Computer",
                                                    "Radiohead Kid A", "Coldplay"});
    CHECK(search(c, "q=radio&sort=-price").titles ==
          Titles{"Radiohead OK Computer", "Radiohead Kid A"});
}

TEST_CASE(
    "search: X-Total-Count counts every match before paging and reserved tickets are not listed",
    "[tickets][search]") {
    Shop s;
    auto& c = *s.seller;
    auto page = search(c, "sort=price&limit=2&offset=1");
    CHECK(page.titles == Titles{"Radiohead Kid A", "Guns N' Roses"});
    CHECK(page.total == "6");
    CHECK(search(c, "q=radio&limit=1").total == "2");
    CHECK(search(c, "q=radio&limit=0").titles.empty());
    CHECK(search(c, "q=nothing").total == "0");
    // A reservation takes the ticket off the listing, its search and its count.
    auto id = create_ticket(c, "Radiohead In Rainbows", "70");
    s.app.wait_idle();
    CHECK(search(c, "q=rainbows").total == "1");
    CHECK(search(c, "").total == "7");
    CHECK(search(c, "q=radio").total == "3");
    auto buyer = test::as_user(s.app, "buyer");
    REQUIRE(buyer->post("/api/orders", R"({"ticketId":")" + id + R"("})").status == 201);
    s.app.wait_idle();
    CHECK(search(c, "q=rainbows").titles.empty());
    CHECK(search(c, "q=rainbows").total == "0");
    CHECK(search(c, "").total == "6");
    CHECK(search(c, "q=radio").total == "2");
}

TEST_CASE("search: an edited title is found by its new words only", "[tickets][search]") {
    Shop s;
    auto& c = *s.seller;
    auto id = create_ticket(c, "Blur Parklife", "40");
    // Each answer asked for before the change too: a page kept from before it is never served.
    CHECK(search(c, "q=blur").titles == Titles{"Blur Parklife"});
    CHECK(search(c, "q=oasis%20maybe").titles.empty());
    CHECK(search(c, "q=definitely&minPrice=45").titles.empty());
    REQUIRE(
        c.put("/api/tickets/" + id, R"({"title":"Oasis Definitely Maybe","price":40})").status ==
        200);
    CHECK(search(c, "q=blur").titles.empty());
    CHECK(search(c, "q=oasis%20maybe").titles == Titles{"Oasis Definitely Maybe"});
    // A price change alone keeps the words.
    REQUIRE(
        c.put("/api/tickets/" + id, R"({"title":"Oasis Definitely Maybe","price":45})").status ==
        200);
    CHECK(search(c, "q=definitely&minPrice=45").titles == Titles{"Oasis Definitely Maybe"});
}

TEST_CASE(
    "search: a cached page is never stale: each kind of change shows at once in every "
    "search, whether it touched that search or not",
    "[tickets][search][cache]") {
    Shop s;
    auto& seller = *s.seller;
    auto buyer = test::as_user(s.app, "buyer");
    // Searches a change can touch or leave alone: words, prices, both, the plain listing.
    const std::vector<std::string> searches = {"",
                                               "q=radio",
                                               "q=radio+comp",
                                               "q=beyonce",
                                               "q=lond",
                                               "q=zeppelin",
                                               "minPrice=70&maxPrice=90",
                                               "q=radio&maxPrice=70",
                                               "sort=price",
                                               "q=kid&sort=-price"};
    int round = 0;
    // Each search asked once before the change (so it is cached), then again after it: the
    // answer must be what a search computed afresh gives (another limit: a key never asked).
    auto check_after = [&](const std::string& what, const std::function<void()>& change) {
        for (const auto& q : searches) search(seller, q);
        change();
        s.app.wait_idle();
        ++round;
        for (const auto& q : searches) {
            INFO(what << ", search '" << q << "'");
            auto cached = search(seller, q);
            auto fresh =
                search(seller, q + (q.empty() ? "" : "&") + "limit=" + std::to_string(100 + round));
            CHECK(cached.titles == fresh.titles);
            CHECK(cached.total == fresh.total);
        }
    };
    std::string london;
    check_after("a new listing", [&] { london = create_ticket(seller, "Radiohead London", "65"); });
    check_after("a listing no search matches",
                [&] { create_ticket(seller, "Metallica Oslo", "300"); });
    check_after("a new title", [&] {
        REQUIRE(seller.put("/api/tickets/" + london, R"({"title":"Kid Creole London","price":65})")
                    .status == 200);
    });
    check_after("a new price", [&] {
        REQUIRE(seller.put("/api/tickets/" + london, R"({"title":"Kid Creole London","price":85})")
                    .status == 200);
    });
    std::string order;
    check_after("a reservation", [&] { order = test::reserve(s.app, *buyer, london); });
    check_after("a cancelled reservation",
                [&] { REQUIRE(buyer->del("/api/orders/" + order).status == 204); });
    check_after("a sale", [&] {
        order = test::reserve(s.app, *buyer, london);
        REQUIRE(test::pay(*buyer, order).status == 201);
    });
    check_after("a relisting", [&] {
        REQUIRE(buyer->post("/api/tickets/" + london + "/resale", R"({"price":70})").status == 200);
    });
    // And the changes did show: the relisted ticket is found by its words and its new price.
    CHECK(search(seller, "q=lond").titles == Titles{"Kid Creole London"});
    CHECK(search(seller, "q=radio&maxPrice=70").titles == Titles{"Radiohead Kid A"});
    CHECK(search(seller, "q=kid&sort=-price").titles ==
          Titles{"Kid Creole London", "Radiohead Kid A"});
}
