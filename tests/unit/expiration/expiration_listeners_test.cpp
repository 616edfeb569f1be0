#include <catch2/catch.hpp>

#include "expiration/expiration_module.hpp"
#include "support/db_query.hpp"
#include "support/recording_bus.hpp"
#include "ticketd/events/all.hpp"
#include "util/time_format.hpp"

// The expiration module's listeners and its timer, on an in-memory database with the recording
// bus and a manual clock.
using namespace ticketd;

namespace {

struct Expiration {
    test::ModuleHarness h;
    std::unique_ptr<Module> module = expiration::make_module(h.context());
    Expiration() {
        module->add_listeners(h.bus);
        module->start();
    }
    ~Expiration() { module->stop(); }
    std::int64_t jobs() { return test::query_int(module->database(), "SELECT count(*) FROM jobs"); }
    // expiration:complete events written to the outbox (by the timer, not by a delivery).
    std::int64_t expired() {
        return test::query_int(module->database(),
                               "SELECT count(*) FROM outbox WHERE subject = 'expiration:complete'");
    }
    events::OrderCreated order(const std::string& id, std::chrono::seconds from_now) {
        return {.id = id,
                .version = 0,
                .status = "created",
                .user_id = "buyer",
                .expires_at = util::format_rfc3339_ms(h.clock.now() + from_now),
                .ticket = {.id = "t-" + id, .price_cents = 1000}};
    }
};

}  // namespace

TEST_CASE("expiration: a reservation expires when its time comes, and only then", "[expiration]") {
    Expiration e;
    CHECK(e.h.bus.deliver("expiration.order-created", e.order("o1", std::chrono::seconds(60)),
                          "e1") == bus::Outcome::ack);
    CHECK(e.jobs() == 1);
    e.h.clock.advance(std::chrono::seconds(59));
    CHECK(e.expired() == 0);
    e.h.clock.advance(std::chrono::seconds(1));
    CHECK(e.expired() == 1);
    CHECK(e.jobs() == 0);
}

TEST_CASE("expiration: a paid or cancelled order's job is dropped", "[expiration]") {
    Expiration e;
    CHECK(e.h.bus.deliver("expiration.order-created", e.order("o1", std::chrono::seconds(60)),
                          "e1") == bus::Outcome::ack);
    CHECK(e.h.bus.deliver("expiration.order-created", e.order("o2", std::chrono::seconds(60)),
                          "e2") == bus::Outcome::ack);
    CHECK(
        e.h.bus.deliver("expiration.order-completed",
                        events::OrderCompleted{
                            .id = "o1", .version = 1, .user_id = "buyer", .ticket = {.id = "t-o1"}},
                        "e3") == bus::Outcome::ack);
    CHECK(
        e.h.bus.deliver("expiration.order-cancelled",
                        events::OrderCancelled{.id = "o2", .version = 1, .ticket = {.id = "t-o2"}},
                        "e4") == bus::Outcome::ack);
    CHECK(e.jobs() == 0);
    e.h.clock.advance(std::chrono::minutes(5));
    CHECK(e.expired() == 0);
}

TEST_CASE("expiration: an order paid or cancelled before its order:created arrives never expires",
          "[expiration][race]") {
    // Split mode delivers each subject on its own: the end of an order can come first.
    Expiration e;
    CHECK(
        e.h.bus.deliver("expiration.order-completed",
                        events::OrderCompleted{
                            .id = "o1", .version = 1, .user_id = "buyer", .ticket = {.id = "t-o1"}},
                        "e1") == bus::Outcome::ack);
    CHECK(
        e.h.bus.deliver("expiration.order-cancelled",
                        events::OrderCancelled{.id = "o2", .version = 1, .ticket = {.id = "t-o2"}},
                        "e2") == bus::Outcome::ack);
    CHECK(e.h.bus.deliver("expiration.order-created", e.order("o1", std::chrono::seconds(60)),
                          "e3") == bus::Outcome::ack);
    CHECK(e.h.bus.deliver("expiration.order-created", e.order("o2", std::chrono::seconds(60)),
                          "e4") == bus::Outcome::ack);
    CHECK(e.jobs() == 0);
    e.h.clock.advance(std::chrono::minutes(5));
    CHECK(e.expired() == 0);
    // Each such order is remembered once, and forgotten when its order:created comes.
    CHECK(test::query_int(e.module->database(), "SELECT count(*) FROM ended_orders") == 0);
    // An order that ended long ago is not remembered for ever.
    CHECK(e.h.bus.deliver("expiration.order-cancelled",
                          events::OrderCancelled{.id = "o3", .version = 1, .ticket = {.id = "t"}},
                          "e5") == bus::Outcome::ack);
    e.h.clock.advance(std::chrono::hours(25));
    CHECK(e.h.bus.deliver("expiration.order-cancelled",
                          events::OrderCancelled{.id = "o4", .version = 1, .ticket = {.id = "t"}},
                          "e6") == bus::Outcome::ack);
    CHECK(test::query_text(e.module->database(),
                           "SELECT group_concat(order_id) FROM ended_orders") == "o4");
}
