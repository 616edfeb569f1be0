#pragma once
// The steps of a purchase as a buyer and a seller take them over HTTP, for tests.
#include <memory>
#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "support/http_client.hpp"
#include "support/test_server.hpp"
#include "util/clock.hpp"

namespace ticketd::test {

// Lists a ticket and waits until every module has heard of it; returns its id.
inline std::string sell(TestServer& app, HttpClient& seller, const std::string& price = "25.50") {
    auto res = seller.post("/api/tickets", R"({"title":"Final","price":)" + price + "}");
    REQUIRE(res.status == 201);
    app.wait_idle();
    return std::string(boost::json::parse(res.body).at("id").as_string());
}
// Orders the ticket and waits until every module has heard of the order; returns its id.
inline std::string reserve(TestServer& app, HttpClient& buyer, const std::string& ticket_id) {
    auto res = buyer.post("/api/orders", R"({"ticketId":")" + ticket_id + R"("})");
    REQUIRE(res.status == 201);
    app.wait_idle();
    return std::string(boost::json::parse(res.body).at("id").as_string());
}
inline HttpResponse pay(HttpClient& buyer, const std::string& order_id,
                        const std::string& token = "tok_visa") {
    return buyer.post("/api/payments",
                      R"({"token":")" + token + R"(","orderId":")" + order_id + R"("})");
}
inline std::string status_of(HttpClient& buyer, const std::string& order_id) {
    return std::string(
        boost::json::parse(buyer.get("/api/orders/" + order_id).body).at("status").as_string());
}

// A server whose modules share a test-controlled clock, with a 60 s reservation window.
struct ClockedApp {
    util::ManualClock clock{std::chrono::system_clock::now()};
    std::unique_ptr<TestServer> app;
    explicit ClockedApp(AppOptions options = TestServer::default_options(), std::string dir = {}) {
        options.clock = &clock;
        auto tweak = [](Config& c) { c.reservation_window_seconds = 60; };
        app = dir.empty() ? std::make_unique<TestServer>(tweak, options)
                          : std::make_unique<TestServer>(dir, tweak, options);
    }
};

}  // namespace ticketd::test
