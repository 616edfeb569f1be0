#include <atomic>
#include <barrier>
#include <condition_variable>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "expiration/expiration_module.hpp"
#include "http/router.hpp"
#include "orders/orders_module.hpp"
#include "payments/payment_provider.hpp"
#include "payments/payments_module.hpp"
#include "support/db_query.hpp"
#include "support/gated_provider.hpp"
#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/shop.hpp"
#include "support/test_server.hpp"
#include "ticketd/events/all.hpp"
#include "tickets/tickets_module.hpp"
#include "util/clock.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

std::string message(const test::HttpResponse& r, int i = 0) {
    return test::error_message(r.body, i);
}
using test::pay;
using test::reserve;
using test::sell;
using test::status_of;
bool listed(test::HttpClient& c, const std::string& ticket_id) {
    return c.get("/api/tickets").body.find(ticket_id) != std::string::npos;
}

using test::ClockedApp;

using test::GatedProvider;

AppOptions with_provider(std::shared_ptr<GatedProvider::Gate> gate) {
    auto o = test::TestServer::default_options();
    o.builtin_modules = false;
    o.extra_modules = {tickets::make_module, orders::make_module, expiration::make_module,
                       [gate](const ModuleContext& ctx) {
                           return payments::make_module(ctx, std::make_unique<GatedProvider>(gate));
                       }};
    return o;
}

}  // namespace

TEST_CASE("a buyer reserves, pays with a good card and the order completes", "[payments]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto ticket_id = sell(app, *seller);
    auto order_id = reserve(app, *buyer, ticket_id);
    auto paid = pay(*buyer, order_id);
    REQUIRE(paid.status == 201);
    auto payment_id = std::string(json::parse(paid.body).at("id").as_string());
    app.wait_idle();
    CHECK(status_of(*buyer, order_id) == "complete");
    CHECK(!listed(*seller, ticket_id));
    auto& payments = app.app().database("payments");
    CHECK(test::query_int(payments, "SELECT amount_cents FROM payments") == 2550);
    CHECK(test::query_text(payments, "SELECT currency FROM payments") == "usd");
    CHECK(test::query_text(payments, "SELECT id FROM payments") == payment_id);
    CHECK(test::query_text(payments, "SELECT stripe_id FROM payments").starts_with("ch_"));
    CHECK(message(pay(*buyer, order_id)) == "Order has already been paid");
    auto cancel = buyer->del("/api/orders/" + order_id);
    CHECK(cancel.status == 400);
    CHECK(message(cancel) == "Cannot cancel a complete order");
}

TEST_CASE("a paid order is recorded as a sale and drops its expiry", "[payments][sale]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto ticket_id = sell(app, *seller);
    auto order_id = reserve(app, *buyer, ticket_id);
    app.wait_idle();
    auto& expiration = app.app().database("expiration");
    CHECK(test::query_int(expiration, "SELECT count(*) FROM jobs") == 1);
    REQUIRE(pay(*buyer, order_id).status == 201);
    app.wait_idle();
    auto buyer_id = std::string(
        json::parse(buyer->get("/api/orders/" + order_id).body).at("userId").as_string());
    auto& tickets = app.app().database("tickets");
    CHECK(test::query_text(tickets, "SELECT sold_to FROM tickets") == buyer_id);
    CHECK(test::query_int(tickets, "SELECT sold_at IS NOT NULL FROM tickets") == 1);
    CHECK(test::query_int(expiration, "SELECT count(*) FROM jobs") == 0);
    // The ticket passed to the buyer (one version more than reserved), held by the order, not
    // listed.
    auto ticket = json::parse(seller->get("/api/tickets/" + ticket_id).body).as_object();
    CHECK(ticket.at("orderId").as_string() == order_id);
    CHECK(ticket.at("userId").as_string() == buyer_id);
    CHECK(ticket.at("version").as_int64() == 2);
    CHECK(!listed(*seller, ticket_id));
}

TEST_CASE("payment routes refuse what the API says they refuse", "[payments]") {
    test::TestServer app;
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto stranger = test::as_user(app, "stranger");
    auto order_id = reserve(app, *buyer, sell(app, *seller));
    test::HttpClient anonymous(app.port());
    CHECK(pay(anonymous, order_id).status == 401);
    auto both = buyer->post("/api/payments", "{}");
    CHECK(both.status == 400);
    CHECK(both.body == R"({"errors":[{"message":"Token must be provided","field":"token"},)"
                       R"({"message":"OrderId must be provided","field":"orderId"}]})");
    CHECK(pay(*buyer, "no-such-order").status == 404);
    CHECK(pay(*stranger, order_id).status == 401);
    auto declined = pay(*buyer, order_id, "tok_chargeDeclined");
    CHECK(declined.status == 400);
    CHECK(message(declined) == "Your card was declined.");
    CHECK(message(pay(*buyer, order_id, "tok_bogus")) == "No such token: 'tok_bogus'");
    app.wait_idle();
    CHECK(test::query_int(app.app().database("payments"), "SELECT count(*) FROM payments") == 0);
    CHECK(status_of(*buyer, order_id) == "created");
    // Still payable after the declines.
    CHECK(pay(*buyer, order_id).status == 201);
    CHECK(test::query_int(app.app().database("payments"),
                          "SELECT count(*) FROM payment_attempts") == 3);

    auto cancelled = reserve(app, *buyer, sell(app, *seller));
    CHECK(buyer->del("/api/orders/" + cancelled).status == 204);
    app.wait_idle();
    auto refused = pay(*buyer, cancelled);
    CHECK(refused.status == 400);
    CHECK(message(refused) == "Cannot pay for an cancelled order");
}

TEST_CASE("paying twice at the same instant charges once", "[payments]") {
    auto gate = std::make_shared<GatedProvider::Gate>();
    test::TestServer app({}, with_provider(gate));
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto order_id = reserve(app, *buyer, sell(app, *seller));
    constexpr int tries = 8;
    std::vector<std::unique_ptr<test::HttpClient>> clients;
    for (int i = 0; i < tries; ++i) clients.push_back(test::as_user(app, "buyer"));
    std::atomic<int> created{0}, already{0};
    std::barrier start(tries);
    std::vector<std::thread> threads;
    for (int i = 0; i < tries; ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            auto res = pay(*clients[i], order_id);
            if (res.status == 201)
                ++created;
            else if (res.status == 400 && message(res) == "Order has already been paid")
                ++already;
        });
    {
        // Let the one charge through once the others have been refused.
        std::unique_lock lock(gate->m);
        gate->cv.wait(lock, [&] { return gate->charge_waiting; });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (already < tries - 1 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    {
        std::lock_guard lock(gate->m);
        gate->open = true;
    }
    gate->cv.notify_all();
    for (auto& t : threads) t.join();
    CHECK(created == 1);
    CHECK(already == tries - 1);
    CHECK(gate->charges == 1);
    app.wait_idle();
    CHECK(test::query_int(app.app().database("payments"), "SELECT count(*) FROM payments") == 1);
}

TEST_CASE("an unpaid reservation expires and the ticket is listed again", "[expiration]") {
    ClockedApp c;
    auto& app = *c.app;
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto other = test::as_user(app, "other");
    auto ticket_id = sell(app, *seller);
    auto order_id = reserve(app, *buyer, ticket_id);
    CHECK(test::query_int(app.app().database("expiration"), "SELECT count(*) FROM jobs") == 1);
    c.clock.advance(std::chrono::seconds(59));
    app.wait_idle();
    CHECK(status_of(*buyer, order_id) == "created");
    c.clock.advance(std::chrono::seconds(2));
    app.wait_idle();
    CHECK(status_of(*buyer, order_id) == "cancelled");
    CHECK(listed(*seller, ticket_id));
    CHECK(message(pay(*buyer, order_id)) == "Cannot pay for an cancelled order");
    auto again = other->post("/api/orders", R"({"ticketId":")" + ticket_id + R"("})");
    CHECK(again.status == 201);
    CHECK(test::query_int(app.app().database("bus"),
                          "SELECT count(*) FROM events WHERE subject = 'expiration:complete'") ==
          1);
}

TEST_CASE("with a real two-second window an unpaid order is cancelled on time",
          "[expiration][slow]") {
    test::TestServer app([](Config& c) { c.reservation_window_seconds = 2; });
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto ticket_id = sell(app, *seller);
    auto started = std::chrono::steady_clock::now();
    auto order_id = reserve(app, *buyer, ticket_id);
    CHECK(status_of(*buyer, order_id) == "created");
    while (status_of(*buyer, order_id) != "cancelled" &&
           std::chrono::steady_clock::now() - started < std::chrono::seconds(10))
        app.wait_idle();  // returns at once when idle; the timer is not bus work
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(status_of(*buyer, order_id) == "cancelled");
    CHECK(took >= std::chrono::milliseconds(1900));
    CHECK(took < std::chrono::seconds(5));
    app.wait_idle();
    CHECK(listed(*seller, ticket_id));
}

TEST_CASE("a reservation due while the server was down expires when it starts again",
          "[expiration]") {
    test::TempDir dir;
    util::ManualClock clock(std::chrono::system_clock::now());
    std::string order_id;
    {
        auto options = test::TestServer::default_options();
        options.clock = &clock;
        test::TestServer app(
            dir.path(), [](Config& c) { c.reservation_window_seconds = 60; }, options);
        auto seller = test::as_user(app, "seller");
        auto buyer = test::as_user(app, "buyer");
        order_id = reserve(app, *buyer, sell(app, *seller));
    }
    clock.advance(std::chrono::minutes(5));  // while it was down
    auto options = test::TestServer::default_options();
    options.clock = &clock;
    test::TestServer app(
        dir.path(), [](Config& c) { c.reservation_window_seconds = 60; }, options);
    auto buyer = test::as_user(app, "buyer");
    app.wait_idle();
    CHECK(status_of(*buyer, order_id) == "cancelled");
}

TEST_CASE("a paid order is never cancelled by its expiry", "[payments][expiration][race]") {
    ClockedApp c;
    auto& app = *c.app;
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto ticket_id = sell(app, *seller);
    auto order_id = reserve(app, *buyer, ticket_id);
    REQUIRE(pay(*buyer, order_id).status == 201);
    app.wait_idle();
    // order:completed dropped the expiry job; time passing changes nothing.
    CHECK(test::query_int(app.app().database("expiration"), "SELECT count(*) FROM jobs") == 0);
    c.clock.advance(std::chrono::minutes(2));
    app.wait_idle();
    CHECK(status_of(*buyer, order_id) == "complete");
    CHECK(!listed(*seller, ticket_id));
    CHECK(test::query_text(app.app().database("payments"), "SELECT refund_status FROM payments") ==
          "none");
}

TEST_CASE("a charge that lands after the reservation expired is refunded",
          "[payments][expiration][race]") {
    auto gate = std::make_shared<GatedProvider::Gate>();
    ClockedApp c(with_provider(gate));
    auto& app = *c.app;
    auto seller = test::as_user(app, "seller");
    auto buyer = test::as_user(app, "buyer");
    auto ticket_id = sell(app, *seller);
    auto order_id = reserve(app, *buyer, ticket_id);
    test::HttpResponse paid;
    std::thread payer([&] { paid = pay(*buyer, order_id); });
    {
        std::unique_lock lock(gate->m);
        gate->cv.wait(lock, [&] { return gate->charge_waiting; });
    }
    // The card is being charged... and the reservation expires meanwhile.
    c.clock.advance(std::chrono::minutes(2));
    test::HttpClient poll(app.port());
    poll.cookie = test::session_cookie("buyer");
    app.wait_idle();
    REQUIRE(status_of(poll, order_id) == "cancelled");
    {
        std::lock_guard lock(gate->m);
        gate->open = true;
    }
    gate->cv.notify_all();
    payer.join();
    CHECK(paid.status == 400);
    CHECK(message(paid) == "Cannot pay for an cancelled order");
    app.wait_idle();
    auto& payments = app.app().database("payments");
    CHECK(gate->charges == 1);
    CHECK(gate->refunds == 1);
    CHECK(test::query_text(payments, "SELECT refund_status FROM payments") == "done");
    CHECK(test::query_text(payments, "SELECT refund_id FROM payments") == "re_gated");
    CHECK(test::query_text(app.app().database("orders"), "SELECT refund_id FROM orders") ==
          "re_gated");
    CHECK(status_of(poll, order_id) == "cancelled");
    CHECK(test::query_int(app.app().database("bus"),
                          "SELECT count(*) FROM events WHERE subject = 'payment:refunded'") == 1);
}
