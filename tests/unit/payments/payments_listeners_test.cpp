#include <catch2/catch.hpp>

#include "payments/payments_module.hpp"
#include "support/db_query.hpp"
#include "support/gated_provider.hpp"
#include "support/module_routes.hpp"
#include "support/recording_bus.hpp"
#include "ticketd/events/all.hpp"

// The payments module's listeners and its wait for an order, on an in-memory database with the
// recording bus.
using namespace ticketd;
using test::GatedProvider;
using test::order_o1;
using test::post_payment;

TEST_CASE("a payment whose order was cancelled before payments heard of it is refunded",
          "[payments][race]") {
    test::ModuleHarness h;
    auto gate = std::make_shared<GatedProvider::Gate>();
    auto payments_module =
        payments::make_module(h.context(), std::make_unique<GatedProvider>(gate));
    payments_module->add_listeners(h.bus);
    payments_module->start();
    events::OrderCreated created{.id = "o1",
                                 .version = 0,
                                 .status = "created",
                                 .user_id = "buyer",
                                 .expires_at = "2030-01-01T00:00:00.000Z",
                                 .ticket = {.id = "t1", .price_cents = 1000}};
    CHECK(h.bus.deliver("payments.order-created", created, "e1") == bus::Outcome::ack);
    {
        // The charge succeeded and was recorded, as the route would have done.
        db::WriteTx tx(payments_module->database());
        tx.exec(
            "INSERT INTO payments (id, order_id, stripe_id, amount_cents, currency, created_at)"
            " VALUES ('p1', 'o1', 'ch_1', 1000, 'usd', 0)");
        tx.commit();
    }
    // A cancellation from the future (version 2) waits for version 1.
    CHECK(h.bus.deliver("payments.order-cancelled",
                        events::OrderCancelled{.id = "o1", .version = 2, .ticket = {.id = "t1"}},
                        "e3") == bus::Outcome::retry);
    CHECK(h.bus.deliver("payments.order-cancelled",
                        events::OrderCancelled{.id = "o1", .version = 1, .ticket = {.id = "t1"}},
                        "e2") == bus::Outcome::ack);
    // The refund is asked for once the handler's transaction commits; the provider answers.
    CHECK(test::query_text(payments_module->database(), "SELECT refund_status FROM payments") ==
          "done");
    CHECK(gate->refunds == 1);
    CHECK(test::query_int(payments_module->database(),
                          "SELECT count(*) FROM outbox WHERE subject = 'payment:refunded'") == 1);
    // Redelivery of the cancellation refunds nothing twice.
    CHECK(h.bus.deliver("payments.order-cancelled",
                        events::OrderCancelled{.id = "o1", .version = 1, .ticket = {.id = "t1"}},
                        "e2-dup") == bus::Outcome::ack);
    CHECK(gate->refunds == 1);
    payments_module->stop();
}

TEST_CASE("paying for an order placed a moment ago waits for payments to hear of it",
          "[payments][race]") {
    test::ModuleRoutes p(payments::make_module);
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
        CHECK(test::query_int(payments_module->database(),
                              "SELECT count(*) FROM payments WHERE order_id = 'o1'") == 1);
    }
    SECTION("the order arrives but is someone else's: 401, nothing charged") {
        auto pending = post_payment(router, "intruder", "o1");
        CHECK(h.bus.deliver("payments.order-created", order_o1, "e1") == bus::Outcome::ack);
        auto res = pending->wait();
        REQUIRE(res);
        CHECK(res->status == 401);
        CHECK(test::query_int(payments_module->database(),
                              "SELECT count(*) FROM payment_attempts") == 0);
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
        CHECK(test::query_int(payments_module->database(),
                              "SELECT count(*) FROM payment_attempts") == 0);
    }
}

TEST_CASE("with --order-wait 0 a payment for an order not heard of is a 404 at once",
          "[payments]") {
    test::ModuleRoutes p(payments::make_module, 0);
    auto pending = post_payment(p.router, "buyer", "o1");
    REQUIRE(pending->answered());
    CHECK(pending->response->status == 404);
}

TEST_CASE("an order cancelled before payments heard of it can never be paid, and is not parked",
          "[payments][race]") {
    test::ModuleRoutes p(payments::make_module);
    auto& h = p.h;
    // Split mode: the cancellation's consumer ran ahead of the creation's.
    CHECK(h.bus.deliver("payments.order-cancelled",
                        events::OrderCancelled{.id = "o1", .version = 1, .ticket = {.id = "t1"}},
                        "e2") == bus::Outcome::ack);
    // The buyer's payment waits for the order, which then arrives already cancelled.
    auto pending = post_payment(p.router, "buyer", "o1");
    CHECK_FALSE(pending->answered());
    CHECK(h.bus.deliver("payments.order-created", order_o1, "e1") == bus::Outcome::ack);
    auto res = pending->wait();
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(res->body.find("Cannot pay for an cancelled order") != std::string::npos);
    CHECK(test::query_int(p.module->database(), "SELECT count(*) FROM payment_attempts") == 0);
    CHECK(test::query_text(p.module->database(), "SELECT status FROM orders WHERE id = 'o1'") ==
          "cancelled");
    CHECK(test::query_int(p.module->database(), "SELECT version FROM orders WHERE id = 'o1'") == 1);
    // The note is used up: a redelivered order:created and cancellation change nothing.
    CHECK(test::query_int(p.module->database(), "SELECT count(*) FROM early_cancellations") == 0);
    CHECK(h.bus.deliver("payments.order-created", order_o1, "e1-dup") == bus::Outcome::ack);
    CHECK(h.bus.deliver("payments.order-cancelled",
                        events::OrderCancelled{.id = "o1", .version = 1, .ticket = {.id = "t1"}},
                        "e2-dup") == bus::Outcome::ack);
    CHECK(test::query_text(p.module->database(), "SELECT status FROM orders WHERE id = 'o1'") ==
          "cancelled");
    CHECK(test::query_int(p.module->database(), "SELECT count(*) FROM early_cancellations") == 0);
}

TEST_CASE("a cancellation over a gap in versions is waited out, then applied on its last try",
          "[payments][race]") {
    test::ModuleRoutes p(payments::make_module);
    auto& h = p.h;
    CHECK(h.bus.deliver("payments.order-created", order_o1, "e1") == bus::Outcome::ack);
    // Orders sends no version 2 today; the rule holds should another order event come between.
    events::OrderCancelled from_the_future{.id = "o1", .version = 2, .ticket = {.id = "t1"}};
    CHECK(h.bus.deliver("payments.order-cancelled", from_the_future, "e3") == bus::Outcome::retry);
    CHECK(test::query_text(p.module->database(), "SELECT status FROM orders WHERE id = 'o1'") ==
          "created");
    h.bus.last_attempt = true;
    CHECK(h.bus.deliver("payments.order-cancelled", from_the_future, "e3") == bus::Outcome::ack);
    CHECK(test::query_text(p.module->database(), "SELECT status FROM orders WHERE id = 'o1'") ==
          "cancelled");
    auto res = post_payment(p.router, "buyer", "o1")->wait();
    REQUIRE(res);
    CHECK(res->status == 400);
}
