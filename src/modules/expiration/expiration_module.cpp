#include "expiration_module.hpp"

#include <atomic>
#include <mutex>

#include "bus/bus.hpp"
#include "db/database.hpp"
#include "job_store.hpp"
#include "ticketd/events/expiration_events.hpp"
#include "ticketd/events/order_events.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/time_format.hpp"
#include "util/timer.hpp"

namespace ticketd::expiration {
namespace {

constexpr int fire_batch = 500;

class ExpirationModule final : public Module {
public:
    explicit ExpirationModule(const ModuleContext& ctx)
        : db_(ctx.open_database("expiration")),
          bus_(ctx.bus),
          clock_(ctx.clock),
          timer_(ctx.make_timer()) {
        // A test moving the clock is like time passing: what is due fires at once, on the
        // test's thread, so that the test waits for the bus rather than for a timer.
        clock_.on_jump([this, alive = alive_] {
            if (*alive) fire_due_now();
        });
    }
    ~ExpirationModule() override { *alive_ = false; }

    std::string_view name() const override { return "expiration"; }
    db::Database& database() override { return *db_; }
    void add_routes(http::Router&) override {}

    void add_listeners(bus::Bus& bus) override {
        bus.publishes<events::ExpirationComplete>("expiration");
        bus.subscribe<events::OrderCreated>("expiration.order-created", *db_,
                                            [this](db::WriteTx& tx, const events::OrderCreated& e) {
                                                return on_order_created(tx, e);
                                            });
        bus.subscribe<events::OrderCancelled>(
            "expiration.order-cancelled", *db_,
            [this](db::WriteTx& tx, const events::OrderCancelled& e) {
                return drop_job(tx, e.id);
            });
        bus.subscribe<events::OrderCompleted>(
            "expiration.order-completed", *db_,
            [this](db::WriteTx& tx, const events::OrderCompleted& e) {
                return drop_job(tx, e.id);
            });
    }

    // Jobs left from before: overdue ones fire now, before start() returns; the timer is armed
    // for the rest.
    void start() override {
        {
            std::lock_guard lock(mutex_);
            running_ = true;
        }
        fire_due_now();
    }

    void stop() override {
        std::lock_guard lock(mutex_);
        running_ = false;
        timer_->cancel();
    }

    void write_metrics(std::string& out) override {
        std::int64_t pending = 0;
        {
            db::ReadLock read(*db_);
            pending = store_.count(read);
        }
        metrics::write_help(out, "ticketd_expiration_jobs_pending", "gauge",
                            "Reservations waiting to expire.");
        metrics::write_sample(out, "ticketd_expiration_jobs_pending", "",
                              static_cast<double>(pending));
    }

private:
    bus::Outcome on_order_created(db::WriteTx& tx, const events::OrderCreated& e) {
        auto due = util::parse_rfc3339(e.expires_at);
        if (!due)
            throw std::invalid_argument("order:created with a bad expiresAt: " + e.expires_at);
        if (store_.take_ended(tx, e.id)) return bus::Outcome::ack;  // paid or cancelled already
        store_.add(tx, e.id, util::to_unix_ms(*due));
        tx.on_commit([this] { rearm(); });
        return bus::Outcome::ack;
    }

    // The order was cancelled or paid before its reservation ran out. With no job to drop, its
    // order:created may still be on its way (each subject is delivered on its own): remember the
    // order, so that it adds no job then.
    bus::Outcome drop_job(db::WriteTx& tx, const std::string& order_id) {
        if (!store_.remove(tx, order_id))
            store_.remember_ended(tx, order_id, util::to_unix_ms(clock_.now()));
        return bus::Outcome::ack;
    }

    void fire_due_now() {
        {
            std::lock_guard lock(mutex_);
            if (!running_) return;
        }
        try {
            fire_due();
        } catch (const std::exception& e) {
            log::error("expiring reservations failed", {{"error", e.what()}});
            rearm();
        }
    }

    // Publishes expiration:complete for every due job and removes them, in one transaction per
    // batch; then arms the timer for the next job.
    void fire_due() {
        std::lock_guard fire_lock(fire_mutex_);
        for (;;) {
            std::int64_t now = util::to_unix_ms(clock_.now());
            db::WriteTx tx(*db_);
            auto due = store_.due(tx, now, fire_batch);
            if (due.empty()) break;
            for (const auto& order_id : due) {
                bus_.publish(tx, events::ExpirationComplete{.order_id = order_id});
                store_.remove(tx, order_id);
            }
            tx.commit();
            log::info("reservations expired", {{"count", std::to_string(due.size())}});
            if (due.size() < static_cast<std::size_t>(fire_batch)) break;
        }
        rearm();
    }

    // Arms the single timer for the earliest pending job.
    void rearm() {
        std::optional<std::int64_t> next;
        {
            db::ReadLock read(*db_);
            next = store_.next_due(read);
        }
        std::lock_guard lock(mutex_);
        if (!running_) return;
        if (!next) {
            timer_->cancel();
            return;
        }
        auto delay = std::chrono::milliseconds(*next - util::to_unix_ms(clock_.now()));
        timer_->arm(delay, [this] {
            try {
                fire_due();
            } catch (const std::exception& e) {
                // Jobs stay in the table; try again shortly.
                log::error("expiring reservations failed", {{"error", e.what()}});
                std::lock_guard lock(mutex_);
                if (running_) timer_->arm(std::chrono::seconds(1), [this] { fire_due(); });
            }
        });
    }

    std::unique_ptr<db::Database> db_;
    bus::Bus& bus_;
    const util::Clock& clock_;
    std::unique_ptr<util::Timer> timer_;
    JobStore store_;
    std::mutex mutex_;       // guards timer_ arming and running_
    std::mutex fire_mutex_;  // one firing at a time
    bool running_ = false;
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    return std::make_unique<ExpirationModule>(ctx);
}

}  // namespace ticketd::expiration
