#pragma once
// LocalBus's delivery: one thread per subscribing database that feeds each of its durable
// subscribers, in log order, from its position (see delivery.cpp). Subscribers of one database
// share its write lock anyway; those of different databases run in parallel.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bus/activity.hpp"
#include "bus/bus.hpp"
#include "bus/local_bus.hpp"

namespace ticketd::bus {

class EventLog;

class Delivery {
public:
    Delivery(EventLog& log, const LocalBusOptions& options, Activity& activity);
    ~Delivery();

    // Registers the durable subscriber `name` (see Bus::subscribe); may be called after start().
    void subscribe(std::string name, std::string subject, db::Database& db, RawHandler handler);
    void start();
    void stop();
    // The relay appended events of these subjects: wakes the threads with a subscriber to one.
    void appended(const std::vector<std::string>& subjects);

    std::vector<SubscriberStatus> subscribers() const;
    // No subscriber has work in hand, a retry pending or a wake-up not yet looked at. Call with
    // activity.mutex held.
    bool idle_locked() const;

private:
    struct Subscriber;
    struct Worker;
    using Clock = std::chrono::steady_clock;

    void loop(Worker& worker);
    // Delivers one batch to `s`; true if it made progress (processed, parked or found events).
    bool deliver_batch(Subscriber& s);
    // Delivers dead letters re-queued by `ticketd dead-letters retry`; true if any was handled.
    bool deliver_requeued(Subscriber& s);
    // Deletes the subscriber's inbox rows older than options_.inbox_retention (by the time in
    // their event id), a thousand per transaction. Returns how many went.
    std::size_t prune_inbox(Subscriber& s);

    EventLog& log_;
    const LocalBusOptions& options_;
    Activity& activity_;

    // Under activity_.mutex:
    std::vector<std::unique_ptr<Subscriber>> subscribers_;
    std::vector<std::unique_ptr<Worker>> workers_;            // one per subscribing database
    std::unordered_map<std::string, std::uint64_t> appends_;  // relay batches appended, by subject
    bool started_ = false;
    bool stopping_ = false;
};

}  // namespace ticketd::bus
