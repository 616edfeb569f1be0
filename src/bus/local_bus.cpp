#include "bus/local_bus.hpp"

#include "bus/activity.hpp"
#include "bus/delivery.hpp"
#include "bus/event_log.hpp"
#include "bus/outbox.hpp"
#include "bus/relay.hpp"
#include "db/database.hpp"

namespace ticketd::bus {

LocalBus::LocalBus(db::Database& log, LocalBusOptions options)
    : options_(options),
      log_(std::make_unique<EventLog>(log)),
      activity_(std::make_unique<Activity>()),
      delivery_(std::make_unique<Delivery>(*log_, options_, *activity_)),
      relay_(std::make_unique<Relay>(
          *log_, options_, *activity_,
          [this](const std::vector<std::string>& subjects) { delivery_->appended(subjects); })) {
    activity_->idle_locked = [this] {
        return !started_ || (relay_->idle_locked() && delivery_->idle_locked());
    };
}

LocalBus::~LocalBus() { stop(); }

void LocalBus::attach_outbox(db::Database& db) { relay_->attach(db); }

void LocalBus::outbox_committed(db::Database& db) { relay_->committed(db); }

void LocalBus::subscribe_raw(std::string name, std::string subject, db::Database& db,
                             RawHandler handler) {
    delivery_->subscribe(std::move(name), std::move(subject), db, std::move(handler));
}

void LocalBus::start() {
    std::lock_guard lifecycle(lifecycle_);
    {
        std::lock_guard lock(activity_->mutex);
        if (started_) return;
    }
    relay_->start();
    delivery_->start();
    std::lock_guard lock(activity_->mutex);
    started_ = true;
}

void LocalBus::stop() {
    std::lock_guard lifecycle(lifecycle_);
    {
        std::lock_guard lock(activity_->mutex);
        if (!started_) return;
        started_ = false;  // running() is false, and wait_idle() gives up, from now on
        activity_->idle.notify_all();
    }
    relay_->stop();
    delivery_->stop();
}

bool LocalBus::running() const {
    std::lock_guard lock(activity_->mutex);
    return started_;
}

bool LocalBus::wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(activity_->mutex);
    return activity_->idle.wait_for(lock, timeout, [this] { return activity_->idle_locked(); }) &&
           started_;
}

std::vector<SubscriberStatus> LocalBus::subscribers() const { return delivery_->subscribers(); }

std::size_t LocalBus::relay_once() { return relay_->relay_once(); }

}  // namespace ticketd::bus
