#include "refunds.hpp"

#include "bus/bus.hpp"
#include "db/database.hpp"
#include "payment_provider.hpp"
#include "payment_store.hpp"
#include "ticketd/events/payment_events.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/time_format.hpp"
#include "util/timer.hpp"

namespace ticketd::payments {

Refunds::Refunds(db::Database& db, PaymentStore& store, bus::Bus& bus, PaymentProvider& provider,
                 const util::Clock& clock, std::unique_ptr<util::Timer> timer)
    : db_(db),
      store_(store),
      bus_(bus),
      provider_(provider),
      clock_(clock),
      timer_(std::move(timer)) {}

Refunds::~Refunds() { *alive_ = false; }

void Refunds::start() {
    running_ = true;
    resume();
}

void Refunds::stop() {
    running_ = false;
    timer_->cancel();
}

void Refunds::detach() {
    *alive_ = false;
    stop();
}

void Refunds::resume() {
    if (!running_) return;
    std::vector<Payment> pending;
    {
        db::ReadLock read(db_);
        pending = store_.pending_refunds(read);
    }
    for (const auto& p : pending) {
        {
            std::lock_guard lock(mutex_);
            if (!in_flight_.insert(p.id).second) continue;
        }
        provider_.refund(
            {p.charge_id, "refund-" + p.id},
            [this, alive = alive_, payment = p.id, order = p.order_id](ProviderResult result) {
                if (*alive) answered(payment, order, result);
            });
    }
}

void Refunds::answered(const std::string& payment_id, const std::string& order_id,
                       const ProviderResult& result) {
    using Kind = ProviderResult::Kind;
    {
        std::lock_guard lock(mutex_);
        in_flight_.erase(payment_id);
    }
    db::WriteTx tx(db_);
    if (result.kind == Kind::refused || result.kind == Kind::declined) {
        // Asking again would be refused again: a person has to look (ticketd payments).
        store_.refund_refused(tx, payment_id, result.message);
        tx.commit();
        log::error("the payment provider refused a refund; settle it by hand (ticketd payments)",
                   {{"payment_id", payment_id}, {"order_id", order_id}, {"error", result.message}});
        return;
    }
    if (result.kind == Kind::unknown) {
        store_.refund_failed_try(tx, payment_id, result.message);
        tx.commit();
        log::error("refund failed, will retry",
                   {{"payment_id", payment_id}, {"error", result.message}});
        if (running_) timer_->arm(std::chrono::seconds(5), [this] { resume(); });
        return;
    }
    if (store_.refund_done(tx, payment_id, result.id, util::to_unix_ms(clock_.now())))
        bus_.publish(tx, events::PaymentRefunded{
                             .id = payment_id, .order_id = order_id, .refund_id = result.id});
    tx.commit();
    log::info("payment refunded", {{"payment_id", payment_id}, {"order_id", order_id}});
}

}  // namespace ticketd::payments
