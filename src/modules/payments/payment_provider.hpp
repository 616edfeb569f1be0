#pragma once
// The payment provider behind one interface: the built-in fake, or Stripe. Calls are
// asynchronous: the callback runs later on some other thread, never on the caller's stack
// holding a lock, and never blocks an HTTP thread.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_payments)
#error "a module includes only its own headers: modules talk through events"
#endif

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
    std::string source;  // the card token
    std::string description;
    std::string idempotency_key;  // the same for every retry of one attempt
};

// Stripe keeps an idempotency key's answer for 24 hours; after that, asking again would be a new
// charge. An attempt still unknown this long after it was made is left to a person
// (`ticketd payments`), never asked again.
constexpr std::int64_t ask_again_within_ms = 23LL * 3600 * 1000;

struct RefundRequest {
    std::string charge_id;
    std::string idempotency_key;
};

// What the provider answered. Only `unknown` leaves the outcome open: the provider may or may not
// have acted, and asking again with the same idempotency key (and the same request) tells.
struct ProviderResult {
    enum class Kind {
        succeeded,  // charged or refunded; `id` is the provider's id for it
        declined,   // the card was declined; `message` is the provider's, for the customer
        refused,    // the provider refused our request for good (bad key, invalid request,
                    // charge already refunded): nothing happened; `message` is for the log only
        unknown     // no answer we can trust (timeouts, 5xx on every try, an unreadable body)
    };
    Kind kind = Kind::unknown;
    std::string id;
    std::string message;
};

class PaymentProvider {
public:
    virtual ~PaymentProvider() = default;
    // `done` runs exactly once, on any thread, possibly before the call returns: call these
    // with no database lock held. Calling again with the same idempotency key and request is
    // how an unknown outcome is resolved: the provider replays its first answer.
    virtual void charge(ChargeRequest request, std::function<void(ProviderResult)> done) = 0;
    // Whether money moves outside this process (Stripe). Only then must an attempt be on disk
    // before the provider is asked: a power cut that erases the record cannot erase the charge.
    // The built-in fake charges nothing, and a power cut takes it down with the record.
    virtual bool moves_money() const { return true; }
    virtual void refund(RefundRequest request, std::function<void(ProviderResult)> done) = 0;
};

// tok_visa succeeds, tok_chargeDeclined is declined, anything else is an unknown token. Answers
// before charge() or refund() returns. It holds no money and keeps no memory of keys: a charge
// asked again after a crash is simply answered again.
std::unique_ptr<PaymentProvider> make_fake_provider();
// Stripe's API over HTTPS (STRIPE_KEY, STRIPE_API_BASE), with timeouts and retries.
std::unique_ptr<PaymentProvider> make_stripe_provider(const Config& config);

}  // namespace ticketd::payments
