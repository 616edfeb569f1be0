#include "payment_provider.hpp"
#include "util/ids.hpp"

namespace ticketd::payments {
namespace {

// Behaves like Stripe's test mode for its two best-known tokens. It answers at once, on the
// calling thread: there is no network to wait for, and handing the answer to another thread
// would only add two thread switches to every payment. Callers already treat the callback as
// possibly immediate: they hold no database lock when they call.
class FakeProvider final : public PaymentProvider {
public:
    void charge(ChargeRequest request, std::function<void(ProviderResult)> done) override {
        using Kind = ProviderResult::Kind;
        if (request.source == "tok_visa")
            done({.kind = Kind::succeeded,
                  .id = "ch_" + util::random_id().substr(0, 24),
                  .message = ""});
        else if (request.source == "tok_chargeDeclined")
            done({.kind = Kind::declined, .id = "", .message = "Your card was declined."});
        else
            done({.kind = Kind::declined,
                  .id = "",
                  .message = "No such token: '" + request.source + "'"});
    }

    bool moves_money() const override { return false; }

    void refund(RefundRequest, std::function<void(ProviderResult)> done) override {
        done({.kind = ProviderResult::Kind::succeeded,
              .id = "re_" + util::random_id().substr(0, 24),
              .message = ""});
    }
};

}  // namespace

std::unique_ptr<PaymentProvider> make_fake_provider() { return std::make_unique<FakeProvider>(); }

}  // namespace ticketd::payments
