#include "payment_provider.hpp"
#include "util/ids.hpp"
#include "util/worker_pool.hpp"

namespace ticketd::payments {
namespace {

// Behaves like Stripe's test mode for its two best-known tokens. Answers on a worker thread.
class FakeProvider final : public PaymentProvider {
public:
    explicit FakeProvider(util::WorkerPool& workers) : workers_(workers) {}

    void charge(ChargeRequest request, std::function<void(ProviderResult)> done) override {
        workers_.post([request = std::move(request), done = std::move(done)] {
            using Kind = ProviderResult::Kind;
            if (request.source == "tok_visa")
                done({Kind::succeeded, "ch_" + util::random_id().substr(0, 24), ""});
            else if (request.source == "tok_chargeDeclined")
                done({Kind::declined, "", "Your card was declined."});
            else
                done({Kind::declined, "", "No such token: '" + request.source + "'"});
        });
    }

    void refund(RefundRequest, std::function<void(ProviderResult)> done) override {
        workers_.post([done = std::move(done)] {
            done({ProviderResult::Kind::succeeded, "re_" + util::random_id().substr(0, 24), ""});
        });
    }

private:
    util::WorkerPool& workers_;
};

}  // namespace

std::unique_ptr<PaymentProvider> make_fake_provider(util::WorkerPool& workers) {
    return std::make_unique<FakeProvider>(workers);
}

}  // namespace ticketd::payments
