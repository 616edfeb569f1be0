#pragma once
// Refunds owed: a payment that landed on an order cancelled in the meantime (the pay/expire
// race). Each is asked of the provider, with the payment id as its idempotency key, until the
// provider confirms it (published as payment:refunded) or refuses it for good (left `refused`
// for a person: `ticketd payments`). Failed tries are asked again every 5 s.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_payments)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace ticketd::bus {
class Bus;
}
namespace ticketd::db {
class Database;
}
namespace ticketd::util {
class Clock;
class Timer;
}  // namespace ticketd::util

namespace ticketd::payments {

class PaymentProvider;
class PaymentStore;
struct ProviderResult;

class Refunds {
public:
    Refunds(db::Database& db, PaymentStore& store, bus::Bus& bus, PaymentProvider& provider,
            const util::Clock& clock, std::unique_ptr<util::Timer> timer);
    ~Refunds();  // as detach(): provider answers that come later are dropped (the next start
                 // resumes)

    void start();  // then resume()
    void stop();
    // Like stop(), and answers that come later are dropped too: for the module's destructor,
    // before its database goes.
    void detach();
    // Asks the provider for every pending refund not already in flight.
    void resume();

private:
    void answered(const std::string& payment_id, const std::string& order_id,
                  const ProviderResult& result);

    db::Database& db_;
    PaymentStore& store_;
    bus::Bus& bus_;
    PaymentProvider& provider_;
    const util::Clock& clock_;
    std::unique_ptr<util::Timer> timer_;
    std::mutex mutex_;
    std::set<std::string> in_flight_;  // payment ids
    std::atomic<bool> running_{false};
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace ticketd::payments
