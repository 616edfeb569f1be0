#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <future>
#include <mutex>

#include "http/message.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "payments/payment_provider.hpp"
#include "support/test_server.hpp"

using namespace ticketd;

namespace {

// A stand-in for api.stripe.com on 127.0.0.1 that checks what a real Stripe would check and
// answers with scripted statuses.
struct StripeStub {
    struct Seen {
        std::string path, authorization, idempotency_key, content_type, body;
    };
    std::mutex m;
    std::vector<Seen> seen;
    std::vector<int> script;  // statuses to answer, in order; then 200
    http::Router router;
    std::unique_ptr<http::Server> server;

    StripeStub() {
        auto handler = [this](const http::Request& req) {
            std::lock_guard lock(m);
            seen.push_back({req.path, std::string(req.header("authorization").value_or("")),
                            std::string(req.header("idempotency-key").value_or("")),
                            std::string(req.header("content-type").value_or("")), req.body});
            int status = script.empty() ? 200 : script.front();
            if (!script.empty()) script.erase(script.begin());
            if (status == 402)
                return http::text_response(402, R"({"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}})", "application/json");
            if (status >= 500) return http::text_response(status, R"({"error":{"type":"api_error"}})", "application/json");
            std::string id = req.path == "/v1/charges" ? "ch_stub_1" : "re_stub_1";
            return http::text_response(200, R"({"id":")" + id + R"(","object":"charge"})", "application/json");
        };
        router.post("/v1/charges", handler);
        router.post("/v1/refunds", handler);
        http::ServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.threads = 1;
        o.access_log = false;
        server = std::make_unique<http::Server>(router, o);
        server->start();
    }
};

payments::ProviderResult call_charge(payments::PaymentProvider& p, payments::ChargeRequest r) {
    std::promise<payments::ProviderResult> done;
    auto f = done.get_future();
    p.charge(std::move(r), [&](payments::ProviderResult res) { done.set_value(std::move(res)); });
    return f.get();
}

std::unique_ptr<payments::PaymentProvider> provider_for(StripeStub& stub) {
    Config c = test::test_config(":memory:");
    c.stripe_key = "sk_test_123";
    c.stripe_api_base = "http://127.0.0.1:" + std::to_string(stub.server->port());
    return payments::make_stripe_provider(c);
}

}  // namespace

TEST_CASE("the stripe client sends a form-encoded charge with key and idempotency key", "[payments][stripe]") {
    StripeStub stub;
    auto stripe = provider_for(stub);
    auto res = call_charge(*stripe, {2550, "usd", "tok_visa", "ticketd order o1", "o1-1"});
    CHECK(res.kind == payments::ProviderResult::Kind::succeeded);
    CHECK(res.id == "ch_stub_1");
    REQUIRE(stub.seen.size() == 1);
    CHECK(stub.seen[0].path == "/v1/charges");
    CHECK(stub.seen[0].authorization == "Bearer sk_test_123");
    CHECK(stub.seen[0].idempotency_key == "o1-1");
    CHECK(stub.seen[0].content_type == "application/x-www-form-urlencoded");
    CHECK(stub.seen[0].body == "amount=2550&currency=usd&source=tok_visa&description=ticketd%20order%20o1");

    std::promise<payments::ProviderResult> refunded;
    stripe->refund({"ch_stub_1", "refund-p1"}, [&](payments::ProviderResult r) { refunded.set_value(r); });
    auto r = refunded.get_future().get();
    CHECK(r.id == "re_stub_1");
    CHECK(stub.seen.back().path == "/v1/refunds");
    CHECK(stub.seen.back().body == "charge=ch_stub_1");
    CHECK(stub.seen.back().idempotency_key == "refund-p1");
}

TEST_CASE("the stripe client passes a decline through without retrying", "[payments][stripe]") {
    StripeStub stub;
    stub.script = {402};
    auto stripe = provider_for(stub);
    auto res = call_charge(*stripe, {100, "usd", "tok_chargeDeclined", "d", "o2-1"});
    CHECK(res.kind == payments::ProviderResult::Kind::declined);
    CHECK(res.message == "Your card was declined.");
    CHECK(stub.seen.size() == 1);
}

TEST_CASE("the stripe client retries a 5xx with the same idempotency key", "[payments][stripe]") {
    StripeStub stub;
    stub.script = {500, 503};
    auto stripe = provider_for(stub);
    auto res = call_charge(*stripe, {100, "usd", "tok_visa", "d", "o3-1"});
    CHECK(res.kind == payments::ProviderResult::Kind::succeeded);
    REQUIRE(stub.seen.size() == 3);
    for (auto& s : stub.seen) CHECK(s.idempotency_key == "o3-1");
}

TEST_CASE("the stripe client gives up on an unreachable provider", "[payments][stripe]") {
    Config c = test::test_config(":memory:");
    c.stripe_key = "sk_test_123";
    c.stripe_api_base = "http://127.0.0.1:1";  // nothing listens there
    auto stripe = payments::make_stripe_provider(c);
    auto res = call_charge(*stripe, {100, "usd", "tok_visa", "d", "o4-1"});
    CHECK(res.kind == payments::ProviderResult::Kind::unknown);
}
