#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <thread>

#include "expiration/expiration_module.hpp"
#include "orders/orders_module.hpp"
#include "payments/payment_provider.hpp"
#include "payments/payments_module.hpp"
#include "http/router.hpp"
#include "support/db_query.hpp"
#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/shop.hpp"
#include "support/test_server.hpp"
#include "tickets/tickets_module.hpp"
#include "util/clock.hpp"
#include "ticketd/events/all.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

std::string message(const test::HttpResponse& r, int i = 0) { return test::error_message(r.body, i); }
using test::pay;
using test::reserve;
using test::sell;
using test::status_of;
bool listed(test::HttpClient& c, const std::string& ticket_id) {
    return c.get("/api/tickets").body.find(ticket_id) != std::string::npos;
}

// A test-controlled clock shared by the app's modules.
struct ClockedApp {
    util::ManualClock clock{std::chrono::system_clock::now()};
    std::unique_ptr<test::TestServer> app;
    explicit ClockedApp(AppOptions options = test::TestServer::default_options(), std::string dir = {}) {
        options.clock = &clock;
        auto tweak = [](Config& c) { c.reservation_window_seconds = 60; };
        app = dir.empty() ? std::make_unique<test::TestServer>(tweak, options)
                          : std::make_unique<test::TestServer>(dir, tweak, options);
    }
};

// A provider that holds every charge until the test releases it, and counts charges.
class GatedProvider final : public payments::PaymentProvider {
public:
    struct Gate {
        std::mutex m;
        std::condition_variable cv;
        bool open = false;
        int charges = 0, refunds = 0;
        bool charge_waiting = false;
    };
    explicit GatedProvider(std::shared_ptr<Gate> g) : gate_(std::move(g)) {}
    void charge(payments::ChargeRequest, std::function<void(payments::ProviderResult)> done) override {
        std::thread([gate = gate_, done = std::move(done)] {
            std::unique_lock lock(gate->m);
            gate->charge_waiting = true;
            gate->cv.notify_all();
            gate->cv.wait(lock, [&] { return gate->open; });
            ++gate->charges;
            lock.unlock();
            done({payments::ProviderResult::Kind::succeeded, "ch_gated", ""});
        }).detach();
    }
    void refund(payments::RefundRequest, std::function<void(payments::ProviderResult)> done) override {
        {
            std::lock_guard lock(gate_->m);
            ++gate_->refunds;
        }
        done({payments::ProviderResult::Kind::succeeded, "re_gated", ""});
    }

private:
    std::shared_ptr<Gate> gate_;
};

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

TEST_CASE("a paid order passes the ticket to its buyer and drops its expiry", "[payments][ownership]") {
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
    auto buyer_id = std::string(json::parse(buyer->get("/api/orders/" + order_id).body).at("userId").as_string());
    auto ticket = json::parse(seller->get("/api/tickets/" + ticket_id).body).as_object();
    CHECK(ticket.at("userId").as_string() == buyer_id);
    CHECK(ticket.at("orderId").as_string() == order_id);
    CHECK(ticket.at("version").as_int64() == 2);  // listed 0, reserved 1, sold 2
    CHECK(test::query_int(expiration, "SELECT count(*) FROM jobs") == 0);
    // The orders module's replica follows, and the former owner can no longer edit it.
    CHECK(test::query_text(app.app().database("orders"), "SELECT user_id FROM tickets") == buyer_id);
    auto edit = seller->put("/api/tickets/" + ticket_id, R"({"title":"mine again","price":1})");
    CHECK(edit.status == 401);
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
    CHECK(both.body ==
          R"({"errors":[{"message":"Token must be provided","field":"token"},{"message":"OrderId must be provided","field":"orderId"}]})");
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
    CHECK(test::query_int(app.app().database("payments"), "SELECT count(*) FROM payment_attempts") == 3);

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
            if (res.status == 201) ++created;
            else if (res.status == 400 && message(res) == "Order has already been paid") ++already;
        });
    {
        // Let the one charge through once the others have been refused.
        std::unique_lock lock(gate->m);
        gate->cv.wait(lock, [&] { return gate->charge_waiting; });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (already < tries - 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
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
    CHECK(test::query_int(app.app().database("bus"), "SELECT count(*) FROM events WHERE subject = 'expiration:complete'") == 1);
}

TEST_CASE("with a real two-second window an unpaid order is cancelled on time", "[expiration][slow]") {
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

TEST_CASE("a reservation due while the server was down expires when it starts again", "[expiration]") {
    test::TempDir dir;
    util::ManualClock clock(std::chrono::system_clock::now());
    std::string order_id;
    {
        auto options = test::TestServer::default_options();
        options.clock = &clock;
        test::TestServer app(dir.path(), [](Config& c) { c.reservation_window_seconds = 60; }, options);
        auto seller = test::as_user(app, "seller");
        auto buyer = test::as_user(app, "buyer");
        order_id = reserve(app, *buyer, sell(app, *seller));
    }
    clock.advance(std::chrono::minutes(5));  // while it was down
    auto options = test::TestServer::default_options();
    options.clock = &clock;
    test::TestServer app(dir.path(), [](Config& c) { c.reservation_window_seconds = 60; }, options);
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
    CHECK(test::query_text(app.app().database("payments"), "SELECT refund_status FROM payments") == "none");
}

TEST_CASE("a charge that lands after the reservation expired is refunded", "[payments][expiration][race]") {
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
    CHECK(test::query_text(app.app().database("orders"), "SELECT refund_id FROM orders") == "re_gated");
    CHECK(status_of(poll, order_id) == "cancelled");
    CHECK(test::query_int(app.app().database("bus"), "SELECT count(*) FROM events WHERE subject = 'payment:refunded'") == 1);
}

TEST_CASE("a payment whose order was cancelled before payments heard of it is refunded", "[payments][race]") {
    test::ModuleHarness h;
    auto gate = std::make_shared<GatedProvider::Gate>();
    auto payments_module = payments::make_module(h.context(), std::make_unique<GatedProvider>(gate));
    payments_module->add_listeners(h.bus);
    payments_module->start();
    events::OrderCreated created{"o1", 0, "created", "buyer", "2030-01-01T00:00:00.000Z", {"t1", 1000}};
    CHECK(h.bus.deliver("payments.order-created", created, "e1") == bus::Outcome::ack);
    {
        // The charge succeeded and was recorded, as the route would have done.
        db::WriteTx tx(payments_module->database());
        tx.exec("INSERT INTO payments (id, order_id, stripe_id, amount_cents, currency, created_at)"
                " VALUES ('p1', 'o1', 'ch_1', 1000, 'usd', 0)");
        tx.commit();
    }
    // A cancellation from the future (version 2) waits for version 1.
    CHECK(h.bus.deliver("payments.order-cancelled", events::OrderCancelled{"o1", 2, {"t1"}}, "e3") == bus::Outcome::retry);
    CHECK(h.bus.deliver("payments.order-cancelled", events::OrderCancelled{"o1", 1, {"t1"}}, "e2") == bus::Outcome::ack);
    // The refund is asked for once the handler's transaction commits; the provider answers.
    CHECK(test::query_text(payments_module->database(), "SELECT refund_status FROM payments") == "done");
    CHECK(gate->refunds == 1);
    CHECK(test::query_int(payments_module->database(),
                          "SELECT count(*) FROM outbox WHERE subject = 'payment:refunded'") == 1);
    // Redelivery of the cancellation refunds nothing twice.
    CHECK(h.bus.deliver("payments.order-cancelled", events::OrderCancelled{"o1", 1, {"t1"}}, "e2-dup") == bus::Outcome::ack);
    CHECK(gate->refunds == 1);
    payments_module->stop();
}

TEST_CASE("an expiry seen before the payment leaves the order cancelled with the payment noted", "[orders][race]") {
    test::ModuleHarness h;
    auto orders_module = orders::make_module(h.context());
    orders_module->add_listeners(h.bus);
    {
        db::WriteTx tx(orders_module->database());
        tx.exec("INSERT INTO tickets (id, title, price_cents, user_id, version) VALUES ('t1', 'Gig', 1000, 's', 1)");
        tx.exec("INSERT INTO orders (id, user_id, status, expires_at, ticket_id, ticket_title, price_cents,"
                " ticket_version, version, created_at, updated_at)"
                " VALUES ('o1', 'b', 'created', 0, 't1', 'Gig', 1000, 0, 0, 0, 0)");
        tx.commit();
    }
    CHECK(h.bus.deliver("orders.expiration-complete", events::ExpirationComplete{"o1"}, "x1") == bus::Outcome::ack);
    CHECK(h.bus.published == std::vector<std::string>{"order:cancelled"});
    CHECK(h.bus.deliver("orders.payment-created", events::PaymentCreated{"p1", "o1", "ch_1"}, "p") == bus::Outcome::ack);
    CHECK(test::query_text(orders_module->database(), "SELECT status FROM orders") == "cancelled");
    CHECK(test::query_text(orders_module->database(), "SELECT payment_id FROM orders") == "p1");
    CHECK(h.bus.deliver("orders.payment-refunded", events::PaymentRefunded{"p1", "o1", "re_1"}, "r") == bus::Outcome::ack);
    CHECK(test::query_text(orders_module->database(), "SELECT refund_id FROM orders") == "re_1");
    // A later expiry of a complete order changes nothing.
    {
        db::WriteTx tx(orders_module->database());
        tx.exec("UPDATE orders SET status = 'complete'");
        tx.commit();
    }
    CHECK(h.bus.deliver("orders.expiration-complete", events::ExpirationComplete{"o1"}, "x2") == bus::Outcome::ack);
    CHECK(test::query_text(orders_module->database(), "SELECT status FROM orders") == "complete");
}

namespace {

// A POST as `user_id`, dispatched straight to `router`; the response lands in the
// returned slot whenever the handler replies.
struct PendingResponse {
    std::mutex m;
    std::condition_variable cv;
    std::optional<http::Response> response;
    std::optional<http::Response> wait() {
        std::unique_lock lock(m);
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return response.has_value(); });
        return response;
    }
    bool answered() {
        std::lock_guard lock(m);
        return response.has_value();
    }
};

std::shared_ptr<PendingResponse> post(const http::Router& router, const std::string& user_id,
                                      const std::string& path, std::string body) {
    http::Request req;
    req.method = "POST";
    req.target = req.path = path;
    req.body = std::move(body);
    req.headers.push_back({"Content-Type", "application/json"});
    req.current_user = http::User{user_id, user_id + "@example.com", 0};
    auto pending = std::make_shared<PendingResponse>();
    router.dispatch(std::move(req), [pending](http::Response res) {
        std::lock_guard lock(pending->m);
        pending->response = std::move(res);
        pending->cv.notify_all();
    });
    return pending;
}
std::shared_ptr<PendingResponse> post_payment(const http::Router& router, const std::string& user_id,
                                              const std::string& order_id) {
    return post(router, user_id, "/api/payments", R"({"token":"tok_visa","orderId":")" + order_id + R"("})");
}
std::shared_ptr<PendingResponse> post_order(const http::Router& router, const std::string& user_id,
                                            const std::string& ticket_id) {
    return post(router, user_id, "/api/orders", R"({"ticketId":")" + ticket_id + R"("})");
}

// A module made by `make` on a ModuleHarness with its routes in a router, started.
struct ModuleRoutes {
    test::ModuleHarness h;
    std::unique_ptr<Module> module;
    http::Router router;
    ModuleRoutes(std::unique_ptr<Module> (*make)(const ModuleContext&), int order_wait_ms = 1000) {
        h.config.order_wait_ms = order_wait_ms;
        module = make(h.context());
        module->add_listeners(h.bus);
        module->add_routes(router);
        module->start();
    }
    ~ModuleRoutes() { module->stop(); }
};

const events::OrderCreated order_o1{"o1", 0, "created", "buyer", "2030-01-01T00:00:00.000Z", {"t1", 1000}};

}  // namespace

TEST_CASE("paying for an order placed a moment ago waits for payments to hear of it", "[payments][race]") {
    ModuleRoutes p(payments::make_module);
    auto& h = p.h;
    auto& router = p.router;
    auto& payments_module = p.module;
    // Arrivals are waited for with the module's second timer (the first checks charges whose
    // outcome is unknown, the third retries refunds).
    REQUIRE(h.timers.size() == 3);
    test::FakeTimer& arrival_timer = *h.timers[1];

    SECTION("the order arrives: the payment goes through") {
        auto pending = post_payment(router, "buyer", "o1");
        CHECK_FALSE(pending->answered());
        CHECK(arrival_timer.armed_delay == std::chrono::milliseconds(1000));
        CHECK(h.bus.deliver("payments.order-created", order_o1, "e1") == bus::Outcome::ack);
        auto res = pending->wait();
        REQUIRE(res);
        CHECK(res->status == 201);
        CHECK(test::query_int(payments_module->database(), "SELECT count(*) FROM payments WHERE order_id = 'o1'") == 1);
    }
    SECTION("the order arrives but is someone else's: 401, nothing charged") {
        auto pending = post_payment(router, "intruder", "o1");
        CHECK(h.bus.deliver("payments.order-created", order_o1, "e1") == bus::Outcome::ack);
        auto res = pending->wait();
        REQUIRE(res);
        CHECK(res->status == 401);
        CHECK(test::query_int(payments_module->database(), "SELECT count(*) FROM payment_attempts") == 0);
    }
    SECTION("no such order: 404 once the wait is over, nothing recorded") {
        auto pending = post_payment(router, "buyer", "nope");
        CHECK_FALSE(pending->answered());
        CHECK(arrival_timer.callback);
        h.clock.advance(std::chrono::milliseconds(1000));
        CHECK(arrival_timer.fire());
        auto res = pending->wait();
        REQUIRE(res);
        CHECK(res->status == 404);
        CHECK(test::query_int(payments_module->database(), "SELECT count(*) FROM payment_attempts") == 0);
    }
}

TEST_CASE("with --order-wait 0 a payment for an order not heard of is a 404 at once", "[payments]") {
    ModuleRoutes p(payments::make_module, 0);
    auto pending = post_payment(p.router, "buyer", "o1");
    REQUIRE(pending->answered());
    CHECK(pending->response->status == 404);
}

TEST_CASE("ordering a ticket listed a moment ago waits for orders to hear of it", "[orders][race]") {
    ModuleRoutes o(orders::make_module);
    auto& h = o.h;
    REQUIRE(h.timers.size() == 1);
    test::FakeTimer& arrival_timer = *h.timers[0];
    auto orders_in = [&] { return test::query_int(o.module->database(), "SELECT count(*) FROM orders"); };

    SECTION("the ticket arrives: the order is placed") {
        auto pending = post_order(o.router, "buyer", "t1");
        CHECK_FALSE(pending->answered());
        CHECK(arrival_timer.armed_delay == std::chrono::milliseconds(1000));
        CHECK(h.bus.deliver("orders.ticket-created", events::TicketCreated{"t1", 0, "Gig", 1000, "seller"}, "e1") ==
              bus::Outcome::ack);
        auto res = pending->wait();
        REQUIRE(res);
        CHECK(res->status == 201);
        CHECK(json::parse(res->body).at("ticket").at("title") == "Gig");
        CHECK(orders_in() == 1);
    }
    SECTION("no such ticket: 404 once the wait is over, nothing recorded") {
        auto pending = post_order(o.router, "buyer", "nope");
        CHECK_FALSE(pending->answered());
        h.clock.advance(std::chrono::milliseconds(1000));
        CHECK(arrival_timer.fire());
        auto res = pending->wait();
        REQUIRE(res);
        CHECK(res->status == 404);
        CHECK(orders_in() == 0);
    }
}

TEST_CASE("with --order-wait 0 an order for a ticket not heard of is a 404 at once", "[orders]") {
    ModuleRoutes o(orders::make_module, 0);
    auto pending = post_order(o.router, "buyer", "t1");
    REQUIRE(pending->answered());
    CHECK(pending->response->status == 404);
}
