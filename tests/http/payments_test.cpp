// Money at the edges: a provider that loses its answers, answers late, dies, or refuses a refund
// for good. Each test counts what the Stripe stand-in charged and refunded: every charge must be
// the order's one payment, or refunded, or on the list a person settles.
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "app/cli.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "payments/payments_module.hpp"
#include "support/db_query.hpp"
#include "support/recording_bus.hpp"
#include "support/shop.hpp"
#include "support/stripe_stub.hpp"
#include "support/test_server.hpp"

using namespace ticketd;

namespace {

auto with_stripe(test::StripeStub& stub, int timeout_ms = 2000) {
    return [&stub, timeout_ms](Config& c) {
        c.payments = PaymentsProvider::stripe;
        c.stripe_key = "sk_test_123";
        c.stripe_api_base = stub.base_url();
        c.stripe_timeout_ms = timeout_ms;
    };
}

struct Shop {
    test::TestServer& app;
    std::unique_ptr<test::HttpClient> seller = test::as_user(app, "seller");
    std::unique_ptr<test::HttpClient> buyer = test::as_user(app, "buyer");
    std::string order_id = test::reserve(app, *buyer, test::sell(app, *seller));
    db::Database& payments() { return app.app().database("payments"); }
};

// Waits (real time: the reconciler's timer is real) until the order has the status.
bool becomes(test::HttpClient& c, const std::string& order_id, const std::string& status,
             std::chrono::seconds within = std::chrono::seconds(15)) {
    auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
        if (test::status_of(c, order_id) == status) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

}  // namespace

TEST_CASE(
    "a charge whose answers are all lost is not charged again: the buyer's next try resolves it",
    "[payments][stripe][faults]") {
    test::StripeStub stub;
    test::TestServer app(with_stripe(stub));
    Shop shop{app};
    stub.lose_answers(4);  // every try of the first ask: Stripe charged, we never heard
    auto first = test::pay(*shop.buyer, shop.order_id);
    CHECK(first.status == 502);
    CHECK(test::error_message(first.body).find("paying again will not charge twice") !=
          std::string::npos);
    CHECK(stub.charges().size() == 1);
    CHECK(test::query_text(shop.payments(), "SELECT status FROM payment_attempts") == "unknown");

    // The buyer pays again, even with another card: the earlier attempt is asked about first.
    auto second = test::pay(*shop.buyer, shop.order_id);
    REQUIRE(second.status == 201);
    app.wait_idle();
    CHECK(stub.charges().size() == 1);
    CHECK(stub.refunds() == 0);
    CHECK(test::status_of(*shop.buyer, shop.order_id) == "complete");
    CHECK(test::query_int(shop.payments(), "SELECT count(*) FROM payment_attempts") == 1);
    CHECK(test::query_text(shop.payments(), "SELECT stripe_id FROM payments") ==
          stub.charges()[0].id);
    for (auto& s : stub.seen()) CHECK(s.idempotency_key == shop.order_id + "-1");
}

TEST_CASE("an unknown charge older than the provider's memory of keys is left to a person",
          "[payments][stripe][faults]") {
    test::StripeStub stub;
    test::TestServer app(with_stripe(stub));
    Shop shop{app};
    stub.lose_answers(4);
    CHECK(test::pay(*shop.buyer, shop.order_id).status == 502);
    {
        // A day later (Stripe was down all along): asking again with the key would charge anew.
        db::WriteTx tx(shop.payments());
        tx.exec("UPDATE payment_attempts SET created_at = created_at - 86400000");
        tx.commit();
    }
    auto again = test::pay(*shop.buyer, shop.order_id);
    CHECK(again.status == 502);
    CHECK(test::error_message(again.body).find("checked by hand") != std::string::npos);
    CHECK(stub.charges().size() == 1);
    CHECK(stub.seen().size() == 4);  // not asked again
    std::ostringstream out, err;
    CHECK(payments::payments_command(shop.payments(), {}, out, err) == 0);
    CHECK(out.str().find("too old to ask again") != std::string::npos);
}

TEST_CASE("the reconciler settles a lost answer without the buyer coming back",
          "[payments][stripe][faults]") {
    test::StripeStub stub;
    test::TestServer app(with_stripe(stub));
    Shop shop{app};
    stub.lose_answers(4);
    CHECK(test::pay(*shop.buyer, shop.order_id).status == 502);
    CHECK(becomes(*shop.buyer, shop.order_id, "complete"));
    CHECK(stub.charges().size() == 1);
    CHECK(test::query_text(shop.payments(), "SELECT status FROM payment_attempts") == "succeeded");
}

TEST_CASE("a provider that answers too late leaves the outcome unknown until it is asked again",
          "[payments][stripe][faults]") {
    test::StripeStub stub;
    test::TestServer app(with_stripe(stub, 200));
    Shop shop{app};
    stub.answer_after(std::chrono::milliseconds(400));  // every try times out
    CHECK(test::pay(*shop.buyer, shop.order_id).status == 502);
    CHECK(stub.charges().size() == 1);  // four tries, one key, one charge
    stub.answer_after(std::chrono::milliseconds(0));
    REQUIRE(test::pay(*shop.buyer, shop.order_id).status == 201);
    app.wait_idle();
    CHECK(stub.charges().size() == 1);
    CHECK(test::status_of(*shop.buyer, shop.order_id) == "complete");
}

TEST_CASE("a provider that is down: nothing is guessed, the payment completes when it is back",
          "[payments][stripe][faults]") {
    test::StripeStub stub;
    test::TestServer app(with_stripe(stub, 300));
    Shop shop{app};
    stub.stop();
    CHECK(test::pay(*shop.buyer, shop.order_id).status == 502);
    CHECK(test::query_text(shop.payments(), "SELECT status FROM payment_attempts") == "unknown");
    // A second try while it is still down opens no second attempt.
    CHECK(test::pay(*shop.buyer, shop.order_id).status == 502);
    CHECK(test::query_int(shop.payments(), "SELECT count(*) FROM payment_attempts") == 1);
    stub.start();
    CHECK(becomes(*shop.buyer, shop.order_id, "complete"));
    CHECK(stub.charges().size() == 1);
}

TEST_CASE("Stripe's complaints about our key are not shown to the buyer, but declines are",
          "[payments][stripe]") {
    test::StripeStub stub;
    test::TestServer app([&](Config& c) {
        with_stripe(stub)(c);
        c.stripe_key = "sk_test_wrong";
    });
    Shop shop{app};
    auto res = test::pay(*shop.buyer, shop.order_id);
    CHECK(res.status == 502);
    CHECK(test::error_message(res.body).find("API Key") == std::string::npos);
    CHECK(test::error_message(res.body).find("nothing was charged") != std::string::npos);
    CHECK(test::query_text(shop.payments(), "SELECT status FROM payment_attempts") == "failed");
    CHECK(stub.charges().empty());
}

TEST_CASE("an unknown token and a declined card are the buyer's to see", "[payments][stripe]") {
    test::StripeStub stub;
    test::TestServer app(with_stripe(stub));
    Shop shop{app};
    auto unknown = test::pay(*shop.buyer, shop.order_id, "tok_nope");
    CHECK(unknown.status == 400);
    CHECK(test::error_message(unknown.body) == "No such token: 'tok_nope'");
    auto declined = test::pay(*shop.buyer, shop.order_id, "tok_chargeDeclined");
    CHECK(declined.status == 400);
    CHECK(test::error_message(declined.body) == "Your card was declined.");
    CHECK(test::pay(*shop.buyer, shop.order_id).status == 201);
    CHECK(stub.charges().size() == 1);
}

TEST_CASE("after five declines an order takes no more cards (card testing)", "[payments]") {
    test::TestServer app;
    Shop shop{app};
    for (int i = 0; i < 5; ++i)
        CHECK(test::pay(*shop.buyer, shop.order_id, "tok_chargeDeclined").status == 400);
    auto refused = test::pay(*shop.buyer, shop.order_id, "tok_visa");
    CHECK(refused.status == 429);
    CHECK(test::error_message(refused.body) == "Too many declined payments for this order");
    CHECK(test::query_int(shop.payments(), "SELECT count(*) FROM payment_attempts") == 5);
    CHECK(test::query_int(shop.payments(), "SELECT count(*) FROM payments") == 0);
}

TEST_CASE("a refund the provider refuses for good is listed for a person, not retried forever",
          "[payments][stripe][faults]") {
    test::StripeStub stub;
    test::TestServer app(with_stripe(stub));
    Shop shop{app};
    stub.refuse_refunds(true);
    stub.answer_after(std::chrono::milliseconds(800));
    test::HttpResponse paid;
    std::thread payer([&] {
        test::HttpClient own(app.port());  // a client is one connection: one per thread
        own.cookie = shop.buyer->cookie;
        paid = test::pay(own, shop.order_id);
    });
    REQUIRE(stub.wait_for_charge_requests(1));
    // The buyer cancels while the card is being charged: the charge must go back.
    CHECK(shop.buyer->del("/api/orders/" + shop.order_id).status == 204);
    app.wait_idle();
    payer.join();
    CHECK(paid.status == 400);
    stub.answer_after(std::chrono::milliseconds(0));
    app.wait_idle();
    for (int i = 0; i < 500 && test::query_text(shop.payments(),
                                                "SELECT refund_status FROM payments") != "refused";
         ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(test::query_text(shop.payments(), "SELECT refund_status FROM payments") == "refused");
    CHECK(stub.refunds() == 0);

    test::HttpClient ops(app.app().metrics_port());
    CHECK(ops.get("/metrics").body.find("\nticketd_refunds_refused 1\n") != std::string::npos);
    auto payment_id = test::query_text(shop.payments(), "SELECT id FROM payments");
    std::ostringstream out, err;
    CHECK(payments::payments_command(shop.payments(), {}, out, err) == 0);
    CHECK(out.str().find("refund refused  payment=" + payment_id) != std::string::npos);
    CHECK(out.str().find("has already been refunded") != std::string::npos);
    CHECK(payments::payments_command(
              shop.payments(), {"settle", payment_id, "refunded", "by", "hand"}, out, err) == 0);
    CHECK(test::query_text(shop.payments(), "SELECT refund_status FROM payments") == "settled");
    CHECK(payments::payments_command(shop.payments(), {"settle", payment_id, "again"}, out, err) ==
          1);
    std::ostringstream after;
    payments::payments_command(shop.payments(), {}, after, err);
    CHECK(after.str().find("nothing to settle") != std::string::npos);
    CHECK(ops.get("/metrics").body.find("\nticketd_refunds_refused 0\n") != std::string::npos);
}

TEST_CASE(
    "production refuses to start without an explicit payment provider, or with Stripe in clear",
    "[config][payments]") {
    auto parse = [](std::vector<std::string> env, std::vector<const char*> argv = {"ticketd"}) {
        return parse_command_line(static_cast<int>(argv.size()), argv.data(), env);
    };
    CHECK_THROWS_WITH(parse({"TICKETD_ENV=production", "JWT_KEY=k"}),
                      Catch::Contains("production mode needs an explicit payment provider"));
    CHECK(parse({"TICKETD_ENV=production", "PAYMENTS_PROVIDER=fake"}).config.payments ==
          PaymentsProvider::fake);
    CHECK(parse({}, {"ticketd", "--production", "--payments", "fake"}).config.production);
    CHECK_THROWS_WITH(parse({"TICKETD_ENV=production", "PAYMENTS_PROVIDER=stripe", "STRIPE_KEY=sk",
                             "STRIPE_API_BASE=http://stripe.internal"}),
                      Catch::Contains("must be an https:// URL in production"));
    CHECK_THROWS_WITH(parse({"TICKETD_ENV=production", "PAYMENTS_PROVIDER=stripe"}),
                      Catch::Contains("STRIPE_KEY"));
    CHECK(parse({"TICKETD_ENV=production", "PAYMENTS_PROVIDER=stripe", "STRIPE_KEY=sk"})
              .config.payments == PaymentsProvider::stripe);
    // Tools that do not serve need no provider.
    CHECK(parse({"TICKETD_ENV=production"}, {"ticketd", "dead-letters"}).name == "dead-letters");
}
