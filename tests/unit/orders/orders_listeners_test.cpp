#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "orders/orders_module.hpp"
#include "support/db_query.hpp"
#include "support/module_routes.hpp"
#include "support/recording_bus.hpp"
#include "ticketd/events/all.hpp"

// The orders module's listeners and its wait for a ticket, on an in-memory database with the
// recording bus.
using namespace ticketd;
namespace json = boost::json;
using test::post_order;

namespace {

// Ticket t1 (seller s) in the replica, and order o1 of buyer b for it, just created.
void seed_order(db::Database& db) {
    db::WriteTx tx(db);
    tx.exec(
        "INSERT INTO tickets (id, title, price_cents, user_id, version) VALUES ('t1', 'Gig', 1000, "
        "'s', 1)");
    tx.exec(
        "INSERT INTO orders (id, user_id, status, expires_at, ticket_id, ticket_title, price_cents,"
        " ticket_version, version, created_at, updated_at)"
        " VALUES ('o1', 'b', 'created', 0, 't1', 'Gig', 1000, 0, 0, 0, 0)");
    tx.commit();
}

}  // namespace

TEST_CASE("an expiry seen before the payment leaves the order cancelled with the payment noted",
          "[orders][race]") {
    test::ModuleHarness h;
    auto orders_module = orders::make_module(h.context());
    orders_module->add_listeners(h.bus);
    seed_order(orders_module->database());
    CHECK(h.bus.deliver("orders.expiration-complete", events::ExpirationComplete{.order_id = "o1"},
                        "x1") == bus::Outcome::ack);
    CHECK(h.bus.published == std::vector<std::string>{"order:cancelled"});
    CHECK(h.bus.deliver("orders.payment-created",
                        events::PaymentCreated{.id = "p1", .order_id = "o1", .stripe_id = "ch_1"},
                        "p") == bus::Outcome::ack);
    CHECK(test::query_text(orders_module->database(), "SELECT status FROM orders") == "cancelled");
    CHECK(test::query_text(orders_module->database(), "SELECT payment_id FROM orders") == "p1");
    CHECK(h.bus.deliver("orders.payment-refunded",
                        events::PaymentRefunded{.id = "p1", .order_id = "o1", .refund_id = "re_1"},
                        "r") == bus::Outcome::ack);
    CHECK(test::query_text(orders_module->database(), "SELECT refund_id FROM orders") == "re_1");
    // A later expiry of a complete order changes nothing.
    {
        db::WriteTx tx(orders_module->database());
        tx.exec("UPDATE orders SET status = 'complete'");
        tx.commit();
    }
    CHECK(h.bus.deliver("orders.expiration-complete", events::ExpirationComplete{.order_id = "o1"},
                        "x2") == bus::Outcome::ack);
    CHECK(test::query_text(orders_module->database(), "SELECT status FROM orders") == "complete");
}

TEST_CASE("ordering a ticket listed a moment ago waits for orders to hear of it",
          "[orders][race]") {
    test::ModuleRoutes o(orders::make_module);
    auto& h = o.h;
    REQUIRE(h.timers.size() == 1);
    test::FakeTimer& arrival_timer = *h.timers[0];
    auto orders_in = [&] {
        return test::query_int(o.module->database(), "SELECT count(*) FROM orders");
    };

    SECTION("the ticket arrives: the order is placed") {
        auto pending = post_order(o.router, "buyer", "t1");
        CHECK_FALSE(pending->answered());
        CHECK(arrival_timer.armed_delay == std::chrono::milliseconds(1000));
        CHECK(h.bus.deliver("orders.ticket-created",
                            events::TicketCreated{.id = "t1",
                                                  .version = 0,
                                                  .title = "Gig",
                                                  .price_cents = 1000,
                                                  .user_id = "seller"},
                            "e1") == bus::Outcome::ack);
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
    test::ModuleRoutes o(orders::make_module, 0);
    auto pending = post_order(o.router, "buyer", "t1");
    REQUIRE(pending->answered());
    CHECK(pending->response->status == 404);
}

TEST_CASE("orders: a payment completes the order and publishes order:completed, once",
          "[orders][ownership]") {
    test::ModuleHarness h;
    auto orders_module = orders::make_module(h.context());
    orders_module->add_listeners(h.bus);
    seed_order(orders_module->database());
    events::PaymentCreated paid{.id = "p1", .order_id = "o1", .stripe_id = "ch_1"};
    CHECK(h.bus.deliver("orders.payment-created", paid, "p") == bus::Outcome::ack);
    CHECK(test::query_text(orders_module->database(), "SELECT status FROM orders") == "complete");
    CHECK(test::query_int(orders_module->database(), "SELECT version FROM orders") == 1);
    CHECK(h.bus.published == std::vector<std::string>{"order:completed"});
    auto payload = test::query_text(orders_module->database(), "SELECT payload FROM outbox");
    auto e = events::decode<events::OrderCompleted>(payload);
    CHECK(e.id == "o1");
    CHECK(e.user_id == "b");
    CHECK(e.ticket.id == "t1");
    CHECK(e.version == 1);
    CHECK(h.bus.deliver("orders.payment-created", paid, "p-again") == bus::Outcome::ack);
    CHECK(h.bus.published.size() == 1);
}

TEST_CASE("ticket updates apply in version order whatever order they arrive in",
          "[tickets][orders]") {
    test::ModuleHarness h;
    auto orders = orders::make_module(h.context());
    orders->add_listeners(h.bus);
    auto created = events::TicketCreated{
        .id = "t1", .version = 0, .title = "Gig", .price_cents = 1000, .user_id = "u"};
    auto v1 = events::TicketUpdated{.id = "t1",
                                    .version = 1,
                                    .title = "Gig",
                                    .price_cents = 1100,
                                    .user_id = "u",
                                    .order_id = std::nullopt};
    auto v2 = events::TicketUpdated{.id = "t1",
                                    .version = 2,
                                    .title = "Gig",
                                    .price_cents = 1200,
                                    .user_id = "u",
                                    .order_id = std::nullopt};
    auto v3 = events::TicketUpdated{.id = "t1",
                                    .version = 3,
                                    .title = "Gig!",
                                    .price_cents = 1300,
                                    .user_id = "u",
                                    .order_id = std::nullopt};
    auto replica = [&](const char* column) {
        return test::query_text(orders->database(),
                                std::string("SELECT ") + column + " FROM tickets WHERE id = 't1'");
    };
    // An update before the ticket itself is known: retry.
    CHECK(h.bus.deliver("orders.ticket-updated", v1, "e1") == bus::Outcome::retry);
    CHECK(h.bus.deliver("orders.ticket-created", created, "e0") == bus::Outcome::ack);
    CHECK(h.bus.deliver("orders.ticket-updated", v1, "e1") == bus::Outcome::ack);
    // v3 before v2: a gap, retried until v2 has been applied.
    CHECK(h.bus.deliver("orders.ticket-updated", v3, "e3") == bus::Outcome::retry);
    CHECK(replica("version") == "1");
    CHECK(h.bus.deliver("orders.ticket-updated", v2, "e2") == bus::Outcome::ack);
    CHECK(h.bus.deliver("orders.ticket-updated", v3, "e3") == bus::Outcome::ack);
    CHECK(replica("version") == "3");
    CHECK(replica("price_cents") == "1300");
    // Duplicates, by id or by an old version under a new id, change nothing.
    CHECK(h.bus.deliver("orders.ticket-updated", v2, "e2") == bus::Outcome::ack);
    CHECK(h.bus.deliver("orders.ticket-updated", v2, "e2-again") == bus::Outcome::ack);
    CHECK(h.bus.deliver("orders.ticket-created", created, "e0-again") == bus::Outcome::ack);
    CHECK(replica("version") == "3");
    CHECK(replica("title") == "Gig!");
}
