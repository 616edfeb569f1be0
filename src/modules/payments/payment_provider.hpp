#pragma once
// The payment provider behind one interface: the built-in fake, or Stripe. Calls are
// asynchronous: the callback runs later on some other thread, never on the caller's stack
// holding a lock, and never blocks an HTTP thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ticketd {
struct Config;
}

namespace ticketd::payments {

struct ChargeRequest {
    std::int64_t amount_cents = 0;
    std::string currency = "usd";
    std::string source;           // the card token
    std::string description;
    std::string idempotency_key;  // the same for every retry of one attempt
};

struct RefundRequest {
    std::string charge_id;
    std::string idempotency_key;
};

struct ProviderResult {
    enum class Kind { succeeded, declined, unavailable };
    Kind kind = Kind::unavailable;
    std::string id;       // charge or refund id on success
    std::string message;  // the provider's message for the customer, on decline
};

class PaymentProvider {
public:
    virtual ~PaymentProvider() = default;
    // `done` runs exactly once, on any thread, possibly before the call returns: call these
    // with no database lock held.
    virtual void charge(ChargeRequest request, std::function<void(ProviderResult)> done) = 0;
    virtual void refund(RefundRequest request, std::function<void(ProviderResult)> done) = 0;
};

// tok_visa succeeds, tok_chargeDeclined is declined, anything else is an unknown token. Answers
// before charge() or refund() returns.
std::unique_ptr<PaymentProvider> make_fake_provider();
// Stripe's API over HTTPS (STRIPE_KEY, STRIPE_API_BASE), with timeouts and retries.
std::unique_ptr<PaymentProvider> make_stripe_provider(const Config& config);

}  // namespace ticketd::payments
