#pragma once
// The in-process transport: an append-only event log in bus.db, a relay thread that moves outbox
// rows into it, and one delivery thread per subscribing database that feeds each of its durable
// subscribers from its position (subscribers of one database share its write lock anyway; those of
// different databases run in parallel).
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "bus/bus.hpp"

namespace ticketd::bus {

struct LocalBusOptions {
    RetryPolicy retry;
    int relay_batch = 1000;  // outbox rows moved per transaction
    // Under a steady stream of commits a relay pass starts at most this often, so that each pass
    // (which syncs the publishing databases) carries many events, not one or two.
    // The first commit after a pause is relayed at once.
    std::chrono::microseconds relay_gather{1000};
    // Relayed outbox rows are deleted once no commit has come for this long, or this often
    // under load (each delete takes the module database's write lock).
    std::chrono::milliseconds outbox_cleanup_delay{20};
    int delivery_batch = 500;  // events handled per transaction
    // Inbox rows only matter for events past a subscriber's committed cursor (a crash between the
    // handler's commit and the cursor's can redeliver those). Rows of events made longer ago than
    // this are deleted, every `prune_every`, when the subscriber's worker is between batches.
    std::chrono::milliseconds inbox_retention = std::chrono::hours(1);
    std::chrono::milliseconds prune_every = std::chrono::minutes(10);
};

class EventLog;
class Relay;
class Delivery;
struct Activity;

// Wires the log, the relay and delivery together; see event_log.hpp, relay.cpp, delivery.cpp.
class LocalBus final : public Bus {
public:
    // `log` is bus.db with the "bus" schema applied; it must outlive the bus.
    LocalBus(db::Database& log, LocalBusOptions options = {});
    ~LocalBus() override;

    void attach_outbox(db::Database& db) override;
    void start() override;
    void stop() override;
    bool running() const override;
    bool wait_idle(std::chrono::milliseconds timeout) override;
    std::vector<SubscriberStatus> subscribers() const override;

    // Moves what is in the attached outboxes into the log once, on the calling thread (for tests
    // that simulate a crash between relay steps). Returns the number of rows moved.
    std::size_t relay_once();

protected:
    void outbox_committed(db::Database& db) override;
    void subscribe_raw(std::string name, std::string subject, db::Database& db,
                       RawHandler handler) override;

private:
    LocalBusOptions options_;
    std::unique_ptr<EventLog> log_;
    std::unique_ptr<Activity> activity_;
    std::unique_ptr<Delivery> delivery_;
    std::unique_ptr<Relay> relay_;
    std::mutex lifecycle_;  // start() and stop() run one at a time, each to its end
    bool started_ = false;  // under activity_->mutex
};

}  // namespace ticketd::bus
