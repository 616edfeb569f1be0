#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "ticketd/events/all.hpp"

using namespace ticketd::events;
namespace json = boost::json;

TEST_CASE("event contracts use the camelCase wire names of the API", "[events]") {
    OrderCreated e{"o1", 0, "created", "u1", "2026-11-23T10:15:00.000Z", {"t1", 1999}};
    CHECK(json::serialize(json::value_from(e)) ==
          R"({"id":"o1","version":0,"status":"created","userId":"u1",)"
          R"("expiresAt":"2026-11-23T10:15:00.000Z","ticket":{"id":"t1","priceCents":1999}})");
    TicketUpdated free{"t1", 2, "Gig", 500, "u1", std::nullopt};
    CHECK(!json::value_from(free).as_object().contains("orderId"));
}

TEST_CASE("event contracts round-trip and ignore unknown keys", "[events]") {
    auto v = json::parse(R"({"id":"t","version":3,"title":"A","priceCents":12,)"
                         R"("userId":"u","orderId":"o","extra":[1]})");
    auto e = json::value_to<TicketUpdated>(v);
    CHECK(e.id == "t");
    CHECK(e.version == 3);
    CHECK(e.price_cents == 12);
    CHECK(e.order_id == "o");
    auto back = json::value_to<TicketUpdated>(json::value_from(e));
    CHECK(back.title == "A");
    CHECK(json::value_to<PaymentRefunded>(json::parse(R"({"id":"p","orderId":"o","refundId":"r"})"))
              .refund_id == "r");
    CHECK(json::value_to<ExpirationComplete>(json::parse(R"({"orderId":"o"})")).order_id == "o");
    CHECK(
        json::value_to<OrderCancelled>(json::parse(R"({"id":"o","version":1,"ticket":{"id":"t"}})"))
            .ticket.id == "t");
}

TEST_CASE("an event missing a key or with a wrong type is rejected", "[events]") {
    CHECK_THROWS_WITH(json::value_to<TicketCreated>(
                          json::parse(R"({"id":"t","version":0,"title":"A","userId":"u"})")),
                      Catch::Contains("priceCents"));
    CHECK_THROWS(
        json::value_to<PaymentCreated>(json::parse(R"({"id":1,"orderId":"o","stripeId":"s"})")));
    CHECK_THROWS(json::value_to<OrderCreated>(json::parse(R"([1,2])")));
}

namespace {
struct NotAnEvent {  // looks like a contract but was never declared one
    static constexpr std::string_view subject = "x:y";
};
}  // namespace

TEST_CASE("only declared contracts are events", "[events]") {
    STATIC_REQUIRE(Contract<TicketCreated>);
    STATIC_REQUIRE(Contract<PaymentRefunded>);
    STATIC_REQUIRE_FALSE(Contract<NotAnEvent>);
}
