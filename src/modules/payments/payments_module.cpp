#include "payments_module.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include <boost/json/object.hpp>

#include "bus/bus.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "payment_provider.hpp"
#include "payment_store.hpp"
#include "refunds.hpp"
#include "ticketd/events/order_events.hpp"
#include "ticketd/events/payment_events.hpp"
#include "util/arrival_waiters.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/time_format.hpp"
#include "util/timer.hpp"

namespace ticketd::payments {
namespace {

// Declines allowed per order before its payments are refused outright (card testing: trying
// stolen card numbers one after another against one cheap order).
constexpr int max_declined_attempts = 5;

// How an attempt ended, as far as this process knows.
struct Resolution {
    enum class Kind { paid, paid_but_cancelled, declined, failed, unknown };
    Kind kind = Kind::unknown;
    std::string payment_id;
    std::string message;  // declined: the provider's message for the buyer
};

http::Response respond(const Resolution& r) {
    using K = Resolution::Kind;
    switch (r.kind) {
        case K::paid: return http::json(201, boost::json::object{{"id", r.payment_id}});
        case K::paid_but_cancelled:
            throw http::ApiError::bad_request("Cannot pay for an cancelled order");
        case K::declined: throw http::ApiError::bad_request(r.message);
        case K::failed:
            throw http::ApiError(502,
                                 "The payment provider refused the request; nothing was charged. "
                                 "Please try again later");
        case K::unknown: break;
    }
    throw http::ApiError(
        502,
        "The payment could not be confirmed yet. It is being checked with the provider; "
        "paying again will not charge twice");
}

class PaymentsModule final : public Module {
public:
    PaymentsModule(const ModuleContext& ctx, std::unique_ptr<PaymentProvider> provider)
        : db_(ctx.open_database("payments")),
          bus_(ctx.bus),
          clock_(ctx.clock),
          provider_(std::move(provider)),
          reconcile_timer_(ctx.make_timer()),
          // A payment for an order this module has not heard of yet waits (--order-wait, 1 s by
          // default) for its order:created before the answer is 404. The bus delivers in
          // milliseconds; the wait covers a busy moment.
          order_wait_(ctx.settings<Config>().order_wait_ms),
          arrivals_(ctx.make_timer(), ctx.post, ctx.clock, order_wait_),
          refunds_(std::make_unique<Refunds>(*db_, store_, bus_, *provider_, clock_,
                                             ctx.make_timer())) {}

    ~PaymentsModule() override {
        *alive_ = false;
        refunds_->detach();  // alive until the members go, but asks and records nothing more
        // The database first, while the rest is alive: its sync thread runs the charges still
        // waiting for the disk, which settle() answers (with no provider call) using the members.
        db_.reset();
    }

    std::string_view name() const override { return "payments"; }
    db::Database& database() override { return *db_; }

    void add_routes(http::Router& router) override {
        router.add_async(
            "POST", "/api/payments", [this](const http::Request& req, http::Reply reply) {
                const auto& user = req.require_user();
                auto body = http::json_object(req);
                http::Validation v;
                auto token = http::trim(http::optional_string(body, "token").value_or(""));
                auto order_id = http::trim(http::optional_string(body, "orderId").value_or(""));
                if (token.empty()) v.fail("Token must be provided", "token");
                if (order_id.empty()) v.fail("OrderId must be provided", "orderId");
                v.throw_if_failed();
                pay(user.id, order_id, token, std::move(reply));
            });
    }

    void add_listeners(bus::Bus& bus) override {
        bus.publishes<events::PaymentCreated>("payments");
        bus.publishes<events::PaymentRefunded>("payments");
        bus.subscribe<events::OrderCreated>("payments.order-created", *db_,
                                            [this](db::WriteTx& tx, const events::OrderCreated& e) {
                                                return on_order_created(tx, e);
                                            });
        bus.subscribe<events::OrderCancelled>(
            "payments.order-cancelled", *db_,
            [this](db::WriteTx& tx, const events::OrderCancelled& e, const bus::Envelope& env) {
                return on_order_cancelled(tx, e, env);
            });
    }

    // Before any request is served: attempts a dead process left pending are asked again, and
    // refunds left pending are resumed.
    void start() override {
        {
            db::WriteTx tx(*db_);
            if (int n = store_.pending_to_unknown(tx, now_ms()))
                log::warn(
                    "payment attempts left in flight by the last run will be checked with the "
                    "provider",
                    {{"attempts", std::to_string(n)}});
            tx.commit();
        }
        running_ = true;
        refunds_->start();
        reconcile();
    }
    void stop() override {
        running_ = false;
        refunds_->stop();
        reconcile_timer_->cancel();
        arrivals_.cancel_all();
    }

    void write_metrics(std::string& out) override {
        std::size_t unknown = 0, refused = 0, pending = 0;
        {
            db::ReadLock read(*db_);
            unknown = store_.unknown_attempts(read).size();
            refused = store_.refused_refunds(read).size();
            pending = store_.pending_refunds(read).size();
        }
        metrics::write_help(
            out, "ticketd_payment_attempts_unknown", "gauge",
            "Charges whose outcome is not known yet (being checked with the provider).");
        metrics::write_sample(out, "ticketd_payment_attempts_unknown", "",
                              static_cast<double>(unknown));
        metrics::write_help(out, "ticketd_refunds_pending", "gauge",
                            "Refunds owed and not yet confirmed by the provider.");
        metrics::write_sample(out, "ticketd_refunds_pending", "", static_cast<double>(pending));
        metrics::write_help(
            out, "ticketd_refunds_refused", "gauge",
            "Refunds the provider refused for good: a person settles them (ticketd payments).");
        metrics::write_sample(out, "ticketd_refunds_refused", "", static_cast<double>(refused));
    }

private:
    using Then = std::function<void(const Resolution&)>;

    std::int64_t now_ms() const { return util::to_unix_ms(clock_.now()); }

    // Checks in the API's order, then charges. An order not heard of yet is waited for (it may
    // have been placed a moment ago) unless `waited` says that happened already. An earlier
    // attempt whose outcome is unknown is resolved first: it may have charged the buyer.
    void pay(const std::string& user_id, const std::string& order_id, const std::string& token,
             http::Reply reply, bool waited = false) {
        std::optional<Attempt> earlier, attempt;
        {
            db::WriteTx tx(*db_);
            auto order = store_.find_order(tx, order_id);
            if (!order && !waited && order_wait_.count() > 0) {
                tx.commit();  // nothing written; lets go of the database before waiting
                auto retry = [this, user_id, order_id, token, reply](bool) {
                    try {
                        pay(user_id, order_id, token, reply, true);
                    } catch (...) {
                        reply.fail(std::current_exception());
                    }
                };
                auto known = [&] {
                    db::ReadLock read(*db_);
                    return store_.knows_order(read, order_id);
                };
                if (!arrivals_.present_or_wait(order_id, known, retry)) return;
                return pay(user_id, order_id, token, std::move(reply), true);
            }
            if (!order) throw http::ApiError::not_found();
            if (order->user_id != user_id) throw http::ApiError::unauthorized();
            if (order->cancelled)
                throw http::ApiError::bad_request("Cannot pay for an cancelled order");
            if (store_.has_payment(tx, order_id))
                throw http::ApiError::bad_request("Order has already been paid");
            earlier = store_.unresolved_attempt(tx, order_id);
            // Pending: in flight in this process right now.
            if (earlier && earlier->status == AttemptStatus::pending)
                throw http::ApiError::bad_request("Order has already been paid");
            if (earlier && earlier->created_at_ms < now_ms() - ask_again_within_ms)
                throw http::ApiError(
                    502,
                    "An earlier payment for this order could not be confirmed and is being "
                    "checked by hand; nothing more will be charged");
            if (!earlier) {
                if (store_.declined_attempts(tx, order_id) >= max_declined_attempts)
                    throw http::ApiError(429, "Too many declined payments for this order");
                attempt = store_.open_attempt(tx, order_id, order->price_cents, token, now_ms());
                if (!attempt) throw http::ApiError::bad_request("Order has already been paid");
            }
            tx.commit();
        }
        if (attempt) {
            ask(*attempt, [reply](const Resolution& r) { answer(reply, r); });
            return;
        }
        ask(*earlier, [this, user_id, order_id, token, reply](const Resolution& r) {
            using K = Resolution::Kind;
            if (r.kind != K::declined && r.kind != K::failed) return answer(reply, r);
            try {  // nothing was charged: this request tries with its own card
                pay(user_id, order_id, token, reply, true);
            } catch (...) {
                reply.fail(std::current_exception());
            }
        });
    }

    static void answer(const http::Reply& reply, const Resolution& r) {
        try {
            reply(respond(r));
        } catch (...) {
            reply.fail(std::current_exception());
        }
    }

    // Asks the provider to charge for attempt `a`, or asks again with its key, then records the
    // answer and calls `then` with it. A second ask for the same attempt while one is in flight
    // joins it. A provider that moves money hears of an attempt only once its row is on disk: a
    // power cut can then not erase the record of a charge it made.
    void ask(const Attempt& a, Then then) {
        {
            std::lock_guard lock(mutex_);
            auto [it, first] = asking_.try_emplace(a.key);
            it->second.push_back(std::move(then));
            if (!first) return;
        }
        auto call = [this, alive = alive_, a] {
            if (!*alive || !running_) return settle(a, std::nullopt);
            ChargeRequest charge{.amount_cents = a.amount_cents,
                                 .currency = "usd",
                                 .source = a.token,
                                 .description = "ticketd order " + a.order_id,
                                 .idempotency_key = a.key};
            provider_->charge(std::move(charge), [this, alive, a](ProviderResult result) {
                if (*alive) settle(a, result);
            });
        };
        if (provider_->moves_money())
            db_->when_durable(std::move(call));
        else
            call();
    }

    // Records the provider's answer (none: the module is stopping) and answers everyone waiting.
    void settle(const Attempt& a, const std::optional<ProviderResult>& result) {
        Resolution r;
        try {
            if (result) r = record(a, *result);
        } catch (const std::exception& e) {
            log::error("recording a payment failed",
                       {{"order_id", a.order_id}, {"error", e.what()}});
            try {  // unknown, so that the reconciler asks again (else the next start would)
                db::WriteTx tx(*db_);
                store_.attempt_unknown(tx, a, "recording the answer failed",
                                       now_ms() + recheck_delay_ms(a.checks));
                tx.commit();
            } catch (const std::exception&) {
            }
        }
        std::vector<Then> waiting;
        {
            std::lock_guard lock(mutex_);
            auto it = asking_.find(a.key);
            if (it != asking_.end()) {
                waiting = std::move(it->second);
                asking_.erase(it);
            }
        }
        for (auto& then : waiting) then(r);
        if (r.kind == Resolution::Kind::unknown) schedule_reconcile();
    }

    Resolution record(const Attempt& a, const ProviderResult& result) {
        using Kind = ProviderResult::Kind;
        using K = Resolution::Kind;
        db::WriteTx tx(*db_);
        auto current = store_.unresolved_attempt(tx, a.order_id);
        if (!current || current->key != a.key) {
            // Resolved by an earlier answer already (asked twice across a restart).
            auto payment = store_.payment_id_for(tx, a.order_id);
            return payment ? Resolution{.kind = K::paid, .payment_id = *payment, .message = ""}
                           : Resolution{.kind = K::failed, .payment_id = "", .message = ""};
        }
        switch (result.kind) {
            case Kind::declined:
                store_.resolve_attempt(tx, a, AttemptStatus::declined, result.message, now_ms());
                tx.commit();
                return {.kind = K::declined, .payment_id = "", .message = result.message};
            case Kind::refused:
                store_.resolve_attempt(tx, a, AttemptStatus::failed, result.message, now_ms());
                tx.commit();
                log::error("the payment provider refused a charge",
                           {{"order_id", a.order_id}, {"error", result.message}});
                return {.kind = K::failed, .payment_id = "", .message = ""};
            case Kind::unknown: {
                auto next = now_ms() + recheck_delay_ms(a.checks);
                store_.attempt_unknown(tx, a, result.message, next);
                tx.commit();
                log::warn("payment outcome unknown; it will be checked with the provider",
                          {{"order_id", a.order_id}, {"key", a.key}, {"error", result.message}});
                return {.kind = K::unknown, .payment_id = "", .message = ""};
            }
            case Kind::succeeded: break;
        }
        store_.resolve_attempt(tx, a, AttemptStatus::succeeded, "", now_ms());
        auto order = store_.find_order(tx, a.order_id);
        // The reservation may have expired while the card was being charged: keep no money.
        bool cancelled_meanwhile = order && order->cancelled;
        Payment p{.id = util::random_id(),
                  .order_id = a.order_id,
                  .charge_id = result.id,
                  .amount_cents = a.amount_cents,
                  .refund_status = cancelled_meanwhile ? RefundStatus::pending : RefundStatus::none,
                  .refund_error = "",
                  .created_at_ms = now_ms()};
        store_.add_payment(tx, p);
        bus_.publish(
            tx, events::PaymentCreated{.id = p.id, .order_id = a.order_id, .stripe_id = result.id});
        if (cancelled_meanwhile) tx.on_commit([this] { refunds_->resume(); });
        tx.commit();
        log::info("payment created", {{"order_id", a.order_id}, {"payment_id", p.id}});
        return {.kind = cancelled_meanwhile ? K::paid_but_cancelled : K::paid,
                .payment_id = p.id,
                .message = ""};
    }

    // 2 s, 4 s, 8 s ... up to an hour between checks of one unknown attempt.
    static std::int64_t recheck_delay_ms(int checks) {
        return std::min<std::int64_t>(2000LL << std::min(checks, 20), 3600 * 1000);
    }

    // Asks again about every unknown attempt that is due, and arms the timer for the next.
    void reconcile() {
        if (!running_) return;
        std::vector<Attempt> due;
        {
            db::WriteTx tx(*db_);
            due = store_.attempts_due(tx, now_ms(), now_ms() - ask_again_within_ms, 100);
            // Not due again while this ask is out: the answer sets the next check.
            for (const auto& a : due)
                store_.postpone_check(tx, a, now_ms() + recheck_delay_ms(a.checks));
            tx.commit();
        }
        for (const auto& a : due) ask(a, [](const Resolution&) {});
        schedule_reconcile();
    }

    void schedule_reconcile() {
        if (!running_) return;
        std::optional<std::int64_t> next;
        {
            db::ReadLock read(*db_);
            next = store_.next_check_ms(read, now_ms() - ask_again_within_ms);
        }
        if (!next) return;
        auto delay = std::clamp<std::int64_t>(*next - now_ms(), 100, 60 * 1000);
        reconcile_timer_->arm(std::chrono::milliseconds(delay), [this] { reconcile(); });
    }

    bus::Outcome on_order_created(db::WriteTx& tx, const events::OrderCreated& e) {
        store_.add_order(tx, e);
        tx.on_commit([this, id = e.id] { arrivals_.arrived(id); });
        return bus::Outcome::ack;
    }

    // A cancellation is final, so it is never parked. Before its order:created (split mode
    // delivers each subject on its own, and a consumer can stall for longer than the retries
    // last): it is kept, and the late order:created stores the order as cancelled. Over a gap
    // in the versions (orders sends none today: created is 0 and cancelled 1; this keeps the
    // version rule should another order event come between): waited out, and applied on the
    // last try.
    bus::Outcome on_order_cancelled(db::WriteTx& tx, const events::OrderCancelled& e,
                                    const bus::Envelope& env) {
        auto order = store_.find_order(tx, e.id);
        if (!order) {
            store_.remember_early_cancellation(tx, e.id, e.version, now_ms());
            log::info("order cancelled before payments heard of it", {{"order_id", e.id}});
            return bus::Outcome::ack;
        }
        if (e.version > order->version + 1 && !env.last_attempt) return bus::Outcome::retry;
        if (e.version <= order->version) return bus::Outcome::ack;
        store_.cancel_order(tx, e.id, e.version);
        // Paid, then cancelled (the expiry won the race): the money goes back.
        if (store_.request_refund(tx, e.id)) {
            log::warn("payment for a cancelled order will be refunded", {{"order_id", e.id}});
            tx.on_commit([this] { refunds_->resume(); });
        }
        return bus::Outcome::ack;
    }

    std::unique_ptr<db::Database> db_;
    PaymentStore store_;
    bus::Bus& bus_;
    const util::Clock& clock_;
    std::unique_ptr<PaymentProvider> provider_;
    std::unique_ptr<util::Timer> reconcile_timer_;
    std::chrono::milliseconds order_wait_;
    util::ArrivalWaiters arrivals_;  // payments waiting for their order:created
    std::mutex mutex_;
    std::map<std::string, std::vector<Then>> asking_;  // attempts being asked, by key: who waits
    std::atomic<bool> running_{false};
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
    std::unique_ptr<Refunds> refunds_;  // last: it uses the members above
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx,
                                    std::unique_ptr<PaymentProvider> provider) {
    return std::make_unique<PaymentsModule>(ctx, std::move(provider));
}

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    const auto& config = ctx.settings<Config>();
    auto provider = config.payments == PaymentsProvider::stripe ? make_stripe_provider(config)
                                                                : make_fake_provider();
    return make_module(ctx, std::move(provider));
}

}  // namespace ticketd::payments
