#pragma once
// The in-process transport: an append-only event log in bus.db, a relay thread that moves outbox
// rows into it, and one delivery thread per subscribing database that feeds each of its durable
// subscribers from its cursor (subscribers of one database share its write lock anyway; those of
// different databases run in parallel).
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bus/bus.hpp"

namespace ticketd::bus {

struct LocalBusOptions {
    int max_attempts = 10;                                  // then the event is dead-lettered
    std::chrono::milliseconds first_backoff{20};            // doubles per failed try...
    std::chrono::milliseconds max_backoff{5000};            // ...up to this
    int relay_batch = 1000;                                 // outbox rows moved per transaction
    // Under a steady stream of commits a relay pass starts at most this often, so that each pass
    // (which syncs the publishing databases) carries many events, not one or two.
    // The first commit after a pause is relayed at once.
    std::chrono::microseconds relay_gather{1000};
    // Relayed outbox rows are deleted once no commit has come for this long, or this often
    // under load (each delete takes the module database's write lock).
    std::chrono::milliseconds outbox_cleanup_delay{20};
    int delivery_batch = 500;                               // events handled per transaction
    // Inbox rows only matter for events past a subscriber's committed cursor (a crash between the
    // handler's commit and the cursor's can redeliver those). Rows of events made longer ago than
    // this are deleted, every `prune_every`, when the subscriber's worker is between batches.
    std::chrono::milliseconds inbox_retention = std::chrono::hours(1);
    std::chrono::milliseconds prune_every = std::chrono::minutes(10);
};

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
    struct Subscriber;
    struct Worker;
    using Clock = std::chrono::steady_clock;

    void relay_loop();
    void delivery_loop(Worker& worker);
    // Appends what the outboxes of `dbs` hold beyond what was relayed, in passes that sync those
    // databases together and then append all their rows in one transaction; deletes relayed rows
    // (once the log is synced) when `flush` or when the last delete is outbox_cleanup_delay old.
    std::size_t relay(const std::vector<db::Database*>& dbs, bool flush);
    // Delivers one batch to `s`; true if it made progress (processed, parked or found events).
    bool deliver_batch(Subscriber& s);
    // Delivers dead letters re-queued by `ticketd dead-letters retry`; true if any was handled.
    bool deliver_requeued(Subscriber& s);
    // Deletes the subscriber's inbox rows older than options_.inbox_retention (by the time in
    // their event id), a thousand per transaction. Returns how many went.
    std::size_t prune_inbox(Subscriber& s);
    bool idle_locked() const;
    void mark_pending_locked(db::Database& db);

    db::Database& log_;
    LocalBusOptions options_;
    std::vector<db::Database*> outboxes_;
    std::vector<std::unique_ptr<Subscriber>> subscribers_;
    std::vector<std::unique_ptr<Worker>> workers_;  // one per subscribing database

    mutable std::mutex mutex_;
    std::condition_variable relay_cv_, idle_cv_;
    bool stopping_ = false;
    bool started_ = false;
    std::vector<db::Database*> pending_outboxes_;  // committed to since the relay last looked
    bool relay_busy_ = false;
    bool relay_cleanup_pending_ = false;  // relayed outbox rows not deleted yet
    struct OutboxState {  // the relay's own (or relay_once()'s, before start())
        std::int64_t relayed_through = 0;
        std::int64_t deleted_through = 0;
        Clock::time_point last_delete{};
    };
    std::unordered_map<db::Database*, OutboxState> outbox_state_;
    // Whether relayed rows wait to be deleted and their delete is due (`flush`: due now).
    bool delete_due(const OutboxState& state, bool flush, Clock::time_point now) const;
    // The log's appends are not synced before subscribers read them: a power cut can take the
    // last ones, while the positions past them survive in the subscribers' databases. New
    // appends therefore get sequence numbers above every position known at start(); the lost
    // events are appended again from their outboxes (rows are deleted only once the log is on
    // disk) and each subscriber's inbox drops those it had processed. Written before the relay
    // thread starts.
    std::int64_t seq_floor_ = 0;
    std::unordered_map<std::string, std::uint64_t> appends_;  // relay batches appended, by subject
    std::thread relay_thread_;
};

// Parked events, oldest first, read from bus.db.
std::vector<DeadLetter> list_dead_letters(db::Database& log);
// Marks dead letter `id` for redelivery to its subscriber (a running server picks it up within a
// second). False if there is no such parked event.
bool requeue_dead_letter(db::Database& log, std::int64_t id);

}  // namespace ticketd::bus
