#include "payments_module.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <boost/json/object.hpp>

#include <atomic>
#include <mutex>
#include <set>

#include "bus/bus.hpp"
#include "db/database.hpp"
#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "payment_provider.hpp"
#include "ticketd/events/order_events.hpp"
#include "ticketd/events/payment_events.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "util/arrival_waiters.hpp"
#include "util/time_format.hpp"
#include "util/timer.hpp"

namespace ticketd::payments {
namespace {


struct OrderReplica {
    std::string id;
    std::string user_id;
    std::string status;
    std::int64_t price_cents = 0;
    std::int64_t version = 0;
};

// What the route handler hands the provider callback.
struct Attempt {
    std::string order_id;
    int number = 0;
    std::string key;
    std::int64_t amount_cents = 0;
};

std::optional<OrderReplica> find_order(db::WriteTx& tx, const std::string& id) {
    auto& q = tx.statement("SELECT id, user_id, status, price_cents, version FROM orders WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return OrderReplica{q.getColumn(0).getString(), q.getColumn(1).getString(),
                        q.getColumn(2).getString(), q.getColumn(3).getInt64(), q.getColumn(4).getInt64()};
}

bool has_payment(db::WriteTx& tx, const std::string& order_id) {
    auto& q = tx.statement("SELECT 1 FROM payments WHERE order_id = ?");
    q.bind(1, order_id);
    return q.executeStep();
}

void set_attempt_status(db::WriteTx& tx, const Attempt& a, const char* status, const std::string& message) {
    auto& q = tx.statement("UPDATE payment_attempts SET status = ?, message = ? WHERE idempotency_key = ?");
    q.bind(1, status);
    q.bind(2, message);
    q.bind(3, a.key);
    q.exec();
}

class PaymentsModule final : public Module {
public:
    PaymentsModule(const ModuleContext& ctx, std::unique_ptr<PaymentProvider> provider)
        : db_(ctx.open_database("payments")),
          bus_(ctx.bus),
          clock_(ctx.clock),
          provider_(std::move(provider)),
          retry_timer_(ctx.make_timer()),
          // A payment for an order this module has not heard of yet waits (--order-wait, 1 s by
          // default) for its order:created before the answer is 404. The bus delivers in
          // milliseconds; the wait covers a busy moment.
          order_wait_(ctx.config.order_wait_ms),
          arrivals_(ctx.make_timer(), ctx.post, order_wait_) {}

    ~PaymentsModule() override { *alive_ = false; }

    std::string_view name() const override { return "payments"; }
    db::Database& database() override { return *db_; }

    void add_routes(http::Router& router) override {
        router.add_async("POST", "/api/payments", [this](const http::Request& req, http::Reply reply) {
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
            [this](db::WriteTx& tx, const events::OrderCreated& e) { return on_order_created(tx, e); });
        bus.subscribe<events::OrderCancelled>("payments.order-cancelled", *db_,
            [this](db::WriteTx& tx, const events::OrderCancelled& e) { return on_order_cancelled(tx, e); });
    }

    // Refunds left pending by a crash are resumed.
    void start() override {
        running_ = true;
        refund_pending();
    }
    void stop() override {
        running_ = false;
        retry_timer_->cancel();
        arrivals_.cancel_all();
    }

private:
    std::int64_t now_ms() const { return util::to_unix_ms(clock_.now()); }

    bool knows_order(const std::string& order_id) {
        db::ReadLock read(*db_);
        auto& q = read.statement("SELECT 1 FROM orders WHERE id = ?");
        q.bind(1, order_id);
        return q.executeStep();
    }

    // Checks in the API's order, records the attempt, then calls the provider. An order not heard
    // of yet is waited for (it may have been placed a moment ago) unless `waited` says that
    // happened already.
    void pay(const std::string& user_id, const std::string& order_id, const std::string& token,
             http::Reply reply, bool waited = false) {
        Attempt attempt;
        {
            db::WriteTx tx(*db_);
            auto order = find_order(tx, order_id);
            if (!order && !waited && order_wait_.count() > 0) {
                tx.commit();  // nothing written; lets go of the database before waiting
                auto retry = [this, user_id, order_id, token, reply](bool) {
                    try {
                        pay(user_id, order_id, token, reply, true);
                    } catch (...) {
                        reply.fail(std::current_exception());
                    }
                };
                if (!arrivals_.present_or_wait(order_id, [&] { return knows_order(order_id); }, retry))
                    return;
                return pay(user_id, order_id, token, std::move(reply), true);
            }
            if (!order) throw http::ApiError::not_found();
            if (order->user_id != user_id) throw http::ApiError::unauthorized();
            if (order->status == "cancelled")
                throw http::ApiError::bad_request("Cannot pay for an cancelled order");
            if (has_payment(tx, order_id)) throw http::ApiError::bad_request("Order has already been paid");
            auto& n = tx.statement("SELECT coalesce(max(attempt), 0) + 1 FROM payment_attempts WHERE order_id = ?");
            n.bind(1, order_id);
            n.executeStep();
            attempt = {order_id, n.getColumn(0).getInt(), "", order->price_cents};
            attempt.key = order_id + "-" + std::to_string(attempt.number);
            auto& ins = tx.statement(
                "INSERT INTO payment_attempts (order_id, attempt, idempotency_key, status, created_at)"
                " VALUES (?, ?, ?, 'pending', ?)");
            ins.bind(1, order_id);
            ins.bind(2, attempt.number);
            ins.bind(3, attempt.key);
            ins.bind(4, now_ms());
            try {
                ins.exec();
            } catch (const std::exception& e) {
                // Another payment for this order is in flight.
                if (db::is_unique_violation(e)) throw http::ApiError::bad_request("Order has already been paid");
                throw;
            }
            tx.commit();
        }
        ChargeRequest charge{attempt.amount_cents, "usd", token, "ticketd order " + order_id, attempt.key};
        provider_->charge(std::move(charge), [this, attempt, reply](ProviderResult result) {
            try {
                reply(charged(attempt, result));
            } catch (...) {
                reply.fail(std::current_exception());
            }
        });
    }

    // Records what the provider answered; on success stores the payment and publishes it.
    http::Response charged(const Attempt& attempt, const ProviderResult& result) {
        using Kind = ProviderResult::Kind;
        db::WriteTx tx(*db_);
        if (result.kind == Kind::declined) {
            set_attempt_status(tx, attempt, "declined", result.message);
            tx.commit();
            throw http::ApiError::bad_request(result.message);
        }
        if (result.kind == Kind::unavailable) {
            set_attempt_status(tx, attempt, "failed", result.message);
            tx.commit();
            log::error("payment provider unavailable", {{"order_id", attempt.order_id}, {"error", result.message}});
            throw http::ApiError(502, "Payment provider unavailable, please try again");
        }
        set_attempt_status(tx, attempt, "succeeded", "");
        std::string payment_id = util::random_id();
        auto& ins = tx.statement(
            "INSERT INTO payments (id, order_id, stripe_id, amount_cents, currency, created_at, refund_status)"
            " VALUES (?, ?, ?, ?, 'usd', ?, ?)");
        auto order = find_order(tx, attempt.order_id);
        // The reservation may have expired while the card was being charged: keep no money.
        bool cancelled_meanwhile = order && order->status == "cancelled";
        ins.bind(1, payment_id);
        ins.bind(2, attempt.order_id);
        ins.bind(3, result.id);
        ins.bind(4, attempt.amount_cents);
        ins.bind(5, now_ms());
        ins.bind(6, cancelled_meanwhile ? "pending" : "none");
        ins.exec();
        bus_.publish(tx, events::PaymentCreated{payment_id, attempt.order_id, result.id});
        if (cancelled_meanwhile) tx.on_commit([this] { refund_pending(); });
        tx.commit();
        log::info("payment created", {{"order_id", attempt.order_id}, {"payment_id", payment_id}});
        if (cancelled_meanwhile) throw http::ApiError::bad_request("Cannot pay for an cancelled order");
        return http::json(201, boost::json::object{{"id", payment_id}});
    }

    bus::Outcome on_order_created(db::WriteTx& tx, const events::OrderCreated& e) {
        auto& q = tx.statement(
            "INSERT INTO orders (id, user_id, status, price_cents, version) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING");
        q.bind(1, e.id);
        q.bind(2, e.user_id);
        q.bind(3, e.status);
        q.bind(4, e.ticket.price_cents);
        q.bind(5, e.version);
        q.exec();
        tx.on_commit([this, id = e.id] { arrivals_.arrived(id); });
        return bus::Outcome::ack;
    }

    bus::Outcome on_order_cancelled(db::WriteTx& tx, const events::OrderCancelled& e) {
        auto order = find_order(tx, e.id);
        if (!order || e.version > order->version + 1) return bus::Outcome::retry;
        if (e.version <= order->version) return bus::Outcome::ack;
        auto& up = tx.statement("UPDATE orders SET status = 'cancelled', version = ? WHERE id = ?");
        up.bind(1, e.version);
        up.bind(2, e.id);
        up.exec();
        // Paid, then cancelled (the expiry won the race): the money goes back.
        auto& refund = tx.statement(
            "UPDATE payments SET refund_status = 'pending' WHERE order_id = ? AND refund_status = 'none'");
        refund.bind(1, e.id);
        refund.exec();
        if (tx.connection().getChanges() > 0) {
            log::warn("payment for a cancelled order will be refunded", {{"order_id", e.id}});
            tx.on_commit([this] { refund_pending(); });
        }
        return bus::Outcome::ack;
    }

    // Asks the provider to refund every pending refund not already in flight. Idempotent per
    // payment (the refund's idempotency key is the payment id).
    void refund_pending() {
        if (!running_) return;
        std::vector<std::tuple<std::string, std::string, std::string>> pending;  // id, order, charge
        {
            db::ReadLock read(*db_);
            auto& q = read.statement(
                "SELECT id, order_id, stripe_id FROM payments WHERE refund_status = 'pending'");
            while (q.executeStep())
                pending.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString(),
                                     q.getColumn(2).getString());
        }
        for (const auto& row : pending) {
            const auto& [payment_id, order_id, charge_id] = row;
            {
                std::lock_guard lock(mutex_);
                if (!refunding_.insert(payment_id).second) continue;
            }
            provider_->refund({charge_id, "refund-" + payment_id},
                              [this, alive = alive_, payment = payment_id, order = order_id](ProviderResult result) {
                                  if (*alive) refunded(payment, order, result);
                              });
        }
    }

    void refunded(const std::string& payment_id, const std::string& order_id, const ProviderResult& result) {
        {
            std::lock_guard lock(mutex_);
            refunding_.erase(payment_id);
        }
        if (result.kind != ProviderResult::Kind::succeeded) {
            log::error("refund failed, will retry", {{"payment_id", payment_id}, {"error", result.message}});
            if (running_) retry_timer_->arm(std::chrono::seconds(5), [this] { refund_pending(); });
            return;
        }
        db::WriteTx tx(*db_);
        auto& up = tx.statement(
            "UPDATE payments SET refund_status = 'done', refund_id = ?, refunded_at = ?"
            " WHERE id = ? AND refund_status = 'pending'");
        up.bind(1, result.id);
        up.bind(2, now_ms());
        up.bind(3, payment_id);
        up.exec();
        if (tx.connection().getChanges() > 0)
            bus_.publish(tx, events::PaymentRefunded{payment_id, order_id, result.id});
        tx.commit();
        log::info("payment refunded", {{"payment_id", payment_id}, {"order_id", order_id}});
    }

    std::unique_ptr<db::Database> db_;
    bus::Bus& bus_;
    const util::Clock& clock_;
    std::unique_ptr<PaymentProvider> provider_;
    std::unique_ptr<util::Timer> retry_timer_;
    std::chrono::milliseconds order_wait_;
    util::ArrivalWaiters arrivals_;  // payments waiting for their order:created
    std::mutex mutex_;
    std::set<std::string> refunding_;
    std::atomic<bool> running_{false};
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx, std::unique_ptr<PaymentProvider> provider) {
    return std::make_unique<PaymentsModule>(ctx, std::move(provider));
}

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    auto provider = ctx.config.payments == "stripe" ? make_stripe_provider(ctx.config)
                                                    : make_fake_provider();
    return make_module(ctx, std::move(provider));
}

}  // namespace ticketd::payments
