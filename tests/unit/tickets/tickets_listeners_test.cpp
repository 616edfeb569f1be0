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
    // B was placed after A was cancelled, but A's cancellation has not arrived yet: B waits for
    // it, and takes the ticket when it comes.
    CHECK(t.h.bus.deliver("tickets.order-created", b, "b") == bus::Outcome::ack);
    CHECK(ticket("order_id") == "A");
    CHECK(t.h.bus.deliver("tickets.order-cancelled", a_cancel, "ac") == bus::Outcome::ack);
    CHECK(ticket("order_id") == "B");
    CHECK(ticket("version") == "2");
    CHECK(t.h.bus.deliver("tickets.order-created", b, "b-2") == bus::Outcome::ack);  // redelivered
    CHECK(ticket("order_id") == "B");
    CHECK(ticket("version") == "2");
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
    CHECK(ticket("version") == "3");
    CHECK(t.h.bus.published ==
          std::vector<std::string>{"ticket:updated", "ticket:updated", "ticket:updated"});
}

namespace {

// o1 was cancelled and o2 placed (the waiting list's handover, or a new buyer), each in its own
// event; tickets hears of o2 first.
events::OrderCreated second_order() {
    events::OrderCreated next = created;
    next.id = "o2";
    next.user_id = "second";
    next.ticket.price_cents = 1200;
    return next;
}
const events::OrderCancelled o1_cancelled{.id = "o1", .version = 1, .ticket = {.id = "t1"}};
const events::OrderCompleted o2_completed{
    .id = "o2", .version = 1, .user_id = "second", .ticket = {.id = "t1"}};

std::int64_t waiting(Tickets& t) {
    return test::query_int(t.module->database(), "SELECT count(*) FROM waiting_reservations");
}

}  // namespace

TEST_CASE(
    "tickets: a reservation seen before the cancellation of the one holding the ticket "
    "takes it when that cancellation arrives, never parked",
    "[tickets][race]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-created", second_order(), "e4") == bus::Outcome::ack);
    CHECK(t.order() == "o1");  // o1 holds it until its cancellation says otherwise
    CHECK(t.h.bus.published.size() == 1);
    CHECK(t.h.bus.deliver("tickets.order-cancelled", o1_cancelled, "e3") == bus::Outcome::ack);
    // Passed straight from o1 to o2: never listed in between.
    CHECK(t.order() == "o2");
    CHECK(t.version() == 2);
    CHECK(t.h.bus.published.size() == 2);
    CHECK(waiting(t) == 0);
    CHECK(t.h.bus.deliver("tickets.order-completed", o2_completed, "e5") == bus::Outcome::ack);
    CHECK(t.owner() == "second");
    CHECK(test::query_int(t.module->database(), "SELECT face_value_cents FROM tickets") == 1200);
}

TEST_CASE(
    "tickets: a waiting reservation's sale takes the ticket at once, and the late "
    "cancellation before it changes nothing",
    "[tickets][sale][race]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-created", second_order(), "e4") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-completed", o2_completed, "e5") == bus::Outcome::ack);
    CHECK(t.order() == "o2");
    CHECK(t.owner() == "second");
    CHECK(test::query_int(t.module->database(), "SELECT face_value_cents FROM tickets") == 1200);
    CHECK(t.h.bus.deliver("tickets.order-cancelled", o1_cancelled, "e3") == bus::Outcome::ack);
    CHECK(t.order() == "o2");
    CHECK(t.owner() == "second");
    CHECK(waiting(t) == 0);
}

TEST_CASE("tickets: a waiting reservation cancelled in turn does not take the ticket",
          "[tickets][race]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-created", second_order(), "e4") == bus::Outcome::ack);
    events::OrderCancelled o2_cancelled{.id = "o2", .version = 1, .ticket = {.id = "t1"}};
    CHECK(t.h.bus.deliver("tickets.order-cancelled", o2_cancelled, "e6") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-cancelled", o1_cancelled, "e3") == bus::Outcome::ack);
    CHECK(t.order().empty());
    CHECK(waiting(t) == 0);
}

TEST_CASE(
    "tickets: a stale reservation re-queued from the dead letters never takes the ticket "
    "from a later one",
    "[tickets][race]") {
    Tickets t;
    // o1's order:created was parked; o2 holds the ticket; o1's cancellation is still on its way
    // when a person re-queues o1's order:created (its one try is its last).
    CHECK(t.h.bus.deliver("tickets.order-created", second_order(), "e4") == bus::Outcome::ack);
    t.h.bus.last_attempt = true;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.order() == "o2");
    t.h.bus.last_attempt = false;
    CHECK(t.h.bus.deliver("tickets.order-cancelled", o1_cancelled, "e3") == bus::Outcome::ack);
    CHECK(t.order() == "o2");
    CHECK(waiting(t) == 0);
}

TEST_CASE("tickets: a sold ticket is never taken by a reservation of an order that ended before",
          "[tickets][sale][race]") {
    Tickets t;
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.h.bus.deliver("tickets.order-completed", completed, "e2") == bus::Outcome::ack);
    // Orders places an order for a sold ticket only once it is relisted, and tickets relists it
    // itself first: this one ended before the sale. Acknowledged, not parked.
    events::OrderCreated stale = created;
    stale.id = "o0";
    CHECK(t.h.bus.deliver("tickets.order-created", stale, "e0") == bus::Outcome::ack);
    CHECK(t.order() == "o1");
    CHECK(t.owner() == "buyer");
    CHECK(waiting(t) == 0);
}

TEST_CASE("tickets: a completed order's late order:created never reserves its relisted ticket",
          "[tickets][sale][race]") {
    Tickets t;
    // o1's order:created stalled past every retry; its completion was applied on its last try.
    t.h.bus.last_attempt = true;
    CHECK(t.h.bus.deliver("tickets.order-completed", completed, "e2") == bus::Outcome::ack);
    t.h.bus.last_attempt = false;
    CHECK(t.owner() == "buyer");
    // The buyer relists it (what POST /api/tickets/:id/resale writes to the row).
    {
        db::WriteTx tx(t.module->database());
        tx.exec("UPDATE tickets SET order_id = NULL, order_price_cents = NULL, version = 2");
        tx.commit();
    }
    CHECK(t.h.bus.deliver("tickets.order-created", created, "e1") == bus::Outcome::ack);
    CHECK(t.order().empty());
    CHECK(t.version() == 2);
}
