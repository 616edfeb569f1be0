#include <catch2/catch.hpp>

#include "support/db_query.hpp"
#include "support/recording_bus.hpp"
#include "ticketd/events/all.hpp"
#include "tickets/tickets_module.hpp"

// The tickets module's listeners, on an in-memory database with the recording bus.
using namespace ticketd;

namespace {

struct Tickets {
    test::ModuleHarness h;
    std::unique_ptr<Module> module = tickets::make_module(h.context());
    Tickets() {
        module->add_listeners(h.bus);
        db::WriteTx tx(module->database());
        tx.exec(
            "INSERT INTO tickets (id, title, price_cents, user_id, version, created_at, updated_at)"
            " VALUES ('t1', 'Gig', 1000, 'seller', 0, 0, 0)");
        tx.commit();
    }
    std::string owner() {
        return test::query_text(module->database(), "SELECT user_id FROM tickets");
    }
    std::string order() {
        return test::query_text(module->database(), "SELECT coalesce(order_id, '') FROM tickets");
    }
    std::int64_t version() {
        return test::query_int(module->database(), "SELECT version FROM tickets");
    }
    std::string sold_to() {
        return test::query_text(module->database(), "SELECT coalesce(sold_to, '') FROM tickets");
    }
};

const events::OrderCreated created{.id = "o1",
                                   .version = 0,
                                   .status = "created",
                                   .user_id = "buyer",
                                   .expires_at = "2030-01-01T00:00:00.000Z",
                                   .ticket = {.id = "t1", .price_cents = 1000}};
const events::OrderCompleted completed{
    .id = "o1", .version = 1, .user_id = "buyer", .ticket = {.id = "t1"}};

}  // namespace

TEST_CASE(
    "tickets: a completed order passes the ticket to its buyer, held, with its face value fixed",
    "[tickets][sale]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.order() == "o1");
    CHECK(t.owner() == "seller");
    CHECK(t.h.bus.deliver("tickets.order-completed", completed, "e2") == bus::Outcome::ack);
    CHECK(t.sold_to() == "buyer");
    CHECK(t.owner() == "buyer");
    CHECK(t.order() == "o1");
    CHECK(t.version() == 2);  // a change like any other: the replicas hear of the new owner
    CHECK(t.h.bus.published == std::vector<std::string>{"ticket:updated", "ticket:updated"});
    CHECK(test::query_int(t.module->database(), "SELECT face_value_cents FROM tickets") == 1000);
    CHECK(test::query_text(t.module->database(),
                           "SELECT group_concat(event) FROM ticket_history") == "sold");
}

TEST_CASE("tickets: a completion seen before its reservation waits, unless it is the last try",
          "[tickets][sale][race]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-completed", completed, "e2") == bus::Outcome::retry);
    CHECK(t.sold_to().empty());
    // The reservation was parked: the completion alone says which order holds the ticket.
    t.h.bus.last_attempt = true;
    CHECK(t.h.bus.deliver("tickets.order-completed", completed, "e2") == bus::Outcome::ack);
    CHECK(t.sold_to() == "buyer");
    CHECK(t.owner() == "buyer");
    CHECK(t.order() == "o1");
    CHECK(t.version() == 1);
    CHECK(t.h.bus.published == std::vector<std::string>{"ticket:updated"});
}

TEST_CASE(
    "tickets: a cancelled reservation frees the ticket, and a late reservation of it is ignored",
    "[tickets][race]") {
    Tickets t;
    events::OrderCancelled cancelled{.id = "o1", .version = 1, .ticket = {.id = "t1"}};
    CHECK(t.h.bus.deliver("tickets.order-cancelled", cancelled, "e3") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.order().empty());
    CHECK(t.h.bus.published.empty());
}

TEST_CASE(
    "tickets: the face value and the sale's history entry are what the buyer paid, not a "
    "price edited while the order was on its way",
    "[tickets][sale][race]") {
    Tickets t;
    // The seller's PUT reached tickets after orders had placed the order at 10.00, but before
    // its order:created did.
    {
        db::WriteTx tx(t.module->database());
        tx.exec("UPDATE tickets SET price_cents = 9900, version = 1");
        tx.commit();
    }
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-completed", completed, "e2") == bus::Outcome::ack);
    CHECK(test::query_int(t.module->database(), "SELECT face_value_cents FROM tickets") == 1000);
    CHECK(test::query_int(t.module->database(),
                          "SELECT price_cents FROM ticket_history WHERE event = 'sold'") == 1000);
}

TEST_CASE("tickets: a cancelled reservation forgets its price and the next order's price is paid",
          "[tickets][sale]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    const events::OrderCancelled cancelled{.id = "o1", .version = 1, .ticket = {.id = "t1"}};
    CHECK(t.h.bus.deliver("tickets.order-cancelled", cancelled, "e2") == bus::Outcome::ack);
    CHECK(test::query_text(t.module->database(),
                           "SELECT coalesce(order_price_cents, 'none') FROM tickets") == "none");
    auto second = created;
    second.id = "o2";
    second.ticket.price_cents = 1500;
    CHECK(t.h.bus.deliver("tickets.order-created", second, "e3") == bus::Outcome::ack);
    auto done = completed;
    done.id = "o2";
    CHECK(t.h.bus.deliver("tickets.order-completed", done, "e4") == bus::Outcome::ack);
    CHECK(test::query_int(t.module->database(), "SELECT face_value_cents FROM tickets") == 1500);
}

TEST_CASE("the tickets module reserves and releases in the right order whatever arrives first",
          "[tickets][orders]") {
    Tickets t;
    auto ticket = [&](const char* column) {
        return test::query_text(t.module->database(),
                                std::string("SELECT coalesce(") + column + ", '') FROM tickets");
    };
    events::OrderCreated a{.id = "A",
                           .version = 0,
                           .status = "created",
                           .user_id = "b1",
                           .expires_at = "2030-01-01T00:00:00.000Z",
                           .ticket = {.id = "t1", .price_cents = 1000}};
    events::OrderCancelled a_cancel{.id = "A", .version = 1, .ticket = {.id = "t1"}};
    events::OrderCreated b{.id = "B",
                           .version = 0,
                           .status = "created",
                           .user_id = "b2",
                           .expires_at = "2030-01-01T00:00:00.000Z",
                           .ticket = {.id = "t1", .price_cents = 1000}};
    events::OrderCreated c{.id = "C",
                           .version = 0,
                           .status = "created",
                           .user_id = "b3",
                           .expires_at = "2030-01-01T00:00:00.000Z",
                           .ticket = {.id = "t1", .price_cents = 1000}};
    events::OrderCancelled c_cancel{.id = "C", .version = 1, .ticket = {.id = "t1"}};

    CHECK(t.h.bus.deliver("tickets.order-created", a, "a") == bus::Outcome::ack);
    CHECK(ticket("order_id") == "A");
    CHECK(ticket("version") == "1");
    CHECK(t.h.bus.deliver("tickets.order-created", a, "a") == bus::Outcome::ack);  // redelivered
    // B was placed after A was cancelled, but A's cancellation has not arrived yet: wait.
    CHECK(t.h.bus.deliver("tickets.order-created", b, "b") == bus::Outcome::retry);
    CHECK(t.h.bus.deliver("tickets.order-cancelled", a_cancel, "ac") == bus::Outcome::ack);
    CHECK(ticket("order_id") == "");
    CHECK(t.h.bus.deliver("tickets.order-created", b, "b") == bus::Outcome::ack);
    CHECK(ticket("order_id") == "B");
    CHECK(ticket("version") == "3");
    // A late duplicate cancellation of A does not release B's reservation.
    CHECK(t.h.bus.deliver("tickets.order-cancelled", a_cancel, "ac-2") == bus::Outcome::ack);
    CHECK(ticket("order_id") == "B");
    // Release B, then see C's cancellation before C's creation: C never reserves the ticket.
    CHECK(t.h.bus.deliver("tickets.order-cancelled",
                          events::OrderCancelled{.id = "B", .version = 1, .ticket = {.id = "t1"}},
                          "bc") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-cancelled", c_cancel, "cc") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-created", c, "c") == bus::Outcome::ack);
    CHECK(ticket("order_id") == "");
    CHECK(ticket("version") == "4");
    CHECK(t.h.bus.published == std::vector<std::string>{"ticket:updated", "ticket:updated",
                                                        "ticket:updated", "ticket:updated"});
}

TEST_CASE("tickets: a reservation waits for the one before it to end, unless it is the last try",
          "[tickets][race]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    // o1 was cancelled and o2 placed (the waiting list's handover, or a new buyer), but o1's
    // cancellation is late: its consumer stalled, or it was parked.
    events::OrderCreated next = created;
    next.id = "o2";
    next.user_id = "second";
    next.ticket.price_cents = 1200;
    CHECK(t.h.bus.deliver("tickets.order-created", next, "e4") == bus::Outcome::retry);
    CHECK(t.order() == "o1");
    t.h.bus.last_attempt = true;
    CHECK(t.h.bus.deliver("tickets.order-created", next, "e4") == bus::Outcome::ack);
    CHECK(t.order() == "o2");
    // The late cancellation of o1 no longer frees the ticket o2 holds.
    t.h.bus.last_attempt = false;
    events::OrderCancelled cancelled{.id = "o1", .version = 1, .ticket = {.id = "t1"}};
    CHECK(t.h.bus.deliver("tickets.order-cancelled", cancelled, "e3") == bus::Outcome::ack);
    CHECK(t.order() == "o2");
    // o2 is paid: the sale is at o2's price.
    events::OrderCompleted paid = completed;
    paid.id = "o2";
    paid.user_id = "second";
    CHECK(t.h.bus.deliver("tickets.order-completed", paid, "e5") == bus::Outcome::ack);
    CHECK(t.owner() == "second");
    CHECK(test::query_int(t.module->database(), "SELECT face_value_cents FROM tickets") == 1200);
}

TEST_CASE("tickets: a sold ticket is never taken by a reservation, not even on its last try",
          "[tickets][sale][race]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-completed", completed, "e2") == bus::Outcome::ack);
    events::OrderCreated next = created;
    next.id = "o2";
    t.h.bus.last_attempt = true;
    CHECK(t.h.bus.deliver("tickets.order-created", next, "e4") == bus::Outcome::retry);
    CHECK(t.order() == "o1");
    CHECK(t.owner() == "buyer");
}
