#include <future>
#include <mutex>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "http/message.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "payments/payment_provider.hpp"
#include "support/stripe_stub.hpp"
#include "support/test_server.hpp"

using namespace ticketd;

namespace {

using test::StripeStub;

payments::ProviderResult call_charge(payments::PaymentProvider& p, payments::ChargeRequest r) {
    std::promise<payments::ProviderResult> done;
    auto f = done.get_future();
    p.charge(std::move(r), [&](payments::ProviderResult res) { done.set_value(std::move(res)); });
    return f.get();
}

std::unique_ptr<payments::PaymentProvider> provider_for(StripeStub& stub) {
    Config c = test::test_config(":memory:");
    c.stripe_key = "sk_test_123";
    c.stripe_api_base = stub.base_url();
    c.stripe_timeout_ms = 300;
    return payments::make_stripe_provider(c);
}

}  // namespace

TEST_CASE("the stripe client sends a form-encoded charge with key and idempotency key",
          "[payments][stripe]") {
    StripeStub stub;
    auto stripe = provider_for(stub);
    auto res = call_charge(*stripe, {2550, "usd", "tok_visa", "ticketd order o1", "o1-1"});
    CHECK(res.kind == payments::ProviderResult::Kind::succeeded);
    CHECK(res.id == "ch_stub_1");
    REQUIRE(stub.seen().size() == 1);
    CHECK(stub.seen()[0].path == "/v1/charges");
    CHECK(stub.seen()[0].authorization == "Bearer sk_test_123");
    CHECK(stub.seen()[0].idempotency_key == "o1-1");
    CHECK(stub.seen()[0].content_type == "application/x-www-form-urlencoded");
    CHECK(stub.seen()[0].body ==
          "amount=2550&currency=usd&source=tok_visa&description=ticketd%20order%20o1");

    std::promise<payments::ProviderResult> refunded;
    stripe->refund({"ch_stub_1", "refund-p1"},
                   [&](payments::ProviderResult r) { refunded.set_value(r); });
    auto r = refunded.get_future().get();
    CHECK(r.id == "re_stub_1");
    CHECK(stub.seen().back().path == "/v1/refunds");
    CHECK(stub.seen().back().body == "charge=ch_stub_1");
    CHECK(stub.seen().back().idempotency_key == "refund-p1");
}

TEST_CASE("the stripe client passes a decline through without retrying", "[payments][stripe]") {
    StripeStub stub;
    stub.script({402});
    auto stripe = provider_for(stub);
    auto res = call_charge(*stripe, {100, "usd", "tok_chargeDeclined", "d", "o2-1"});
    CHECK(res.kind == payments::ProviderResult::Kind::declined);
    CHECK(res.message == "Your card was declined.");
    CHECK(stub.seen().size() == 1);
}

TEST_CASE("the stripe client retries a 5xx with the same idempotency key", "[payments][stripe]") {
    StripeStub stub;
    stub.script({500, 503});
    auto stripe = provider_for(stub);
    auto res = call_charge(*stripe, {100, "usd", "tok_visa", "d", "o3-1"});
    CHECK(res.kind == payments::ProviderResult::Kind::succeeded);
    REQUIRE(stub.seen().size() == 3);
    for (auto& s : stub.seen()) CHECK(s.idempotency_key == "o3-1");
}

TEST_CASE("the stripe client gives up on an unreachable provider", "[payments][stripe]") {
    Config c = test::test_config(":memory:");
    c.stripe_key = "sk_test_123";
    c.stripe_api_base = "http://127.0.0.1:1";  // nothing listens there
    auto stripe = payments::make_stripe_provider(c);
    auto res = call_charge(*stripe, {100, "usd", "tok_visa", "d", "o4-1"});
    CHECK(res.kind == payments::ProviderResult::Kind::unknown);
}

TEST_CASE("the stripe client classifies Stripe's refusals: the buyer's, ours, and unknown",
          "[payments][stripe]") {
    StripeStub stub;
    auto stripe = provider_for(stub);
    auto token = call_charge(*stripe, {100, "usd", "tok_nope", "d", "o5-1"});
    CHECK(token.kind == payments::ProviderResult::Kind::declined);
    CHECK(token.message == "No such token: 'tok_nope'");

    Config c = test::test_config(":memory:");
    c.stripe_key = "sk_live_wrong";
    c.stripe_api_base = stub.base_url();
    auto wrong_key = payments::make_stripe_provider(c);
    auto ours = call_charge(*wrong_key, {100, "usd", "tok_visa", "d", "o6-1"});
    CHECK(ours.kind == payments::ProviderResult::Kind::refused);
    CHECK(ours.message.find("Invalid API Key") != std::string::npos);  // for the log

    // The same key with other parameters: Stripe cannot say what the first request did.
    CHECK(call_charge(*stripe, {100, "usd", "tok_visa", "d", "o7-1"}).kind ==
          payments::ProviderResult::Kind::succeeded);
    auto mismatch = call_charge(*stripe, {999, "usd", "tok_visa", "d", "o7-1"});
    CHECK(mismatch.kind == payments::ProviderResult::Kind::unknown);
    CHECK(stub.charges().size() == 1);
}

TEST_CASE("lost answers leave a charge unknown, and asking again with its key replays it",
          "[payments][stripe]") {
    StripeStub stub;
    auto stripe = provider_for(stub);
    stub.lose_answers(4);
    auto lost = call_charge(*stripe, {100, "usd", "tok_visa", "d", "o8-1"});
    CHECK(lost.kind == payments::ProviderResult::Kind::unknown);
    CHECK(stub.seen().size() == 4);
    auto again = call_charge(*stripe, {100, "usd", "tok_visa", "d", "o8-1"});
    CHECK(again.kind == payments::ProviderResult::Kind::succeeded);
    REQUIRE(stub.charges().size() == 1);
    CHECK(again.id == stub.charges()[0].id);
}
