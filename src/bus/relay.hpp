#pragma once
// LocalBus's relay: one thread that moves outbox rows into the event log (see relay.cpp).
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bus/activity.hpp"
#include "bus/local_bus.hpp"

namespace ticketd::bus {

class EventLog;

class Relay {
public:
    // Called on the relay thread, without the activity lock, with the subjects of each
    // append, once subscribers can read it.
    using Appended = std::function<void(const std::vector<std::string>& subjects)>;

    Relay(EventLog& log, const LocalBusOptions& options, Activity& activity, Appended appended);
    ~Relay();

    void attach(db::Database& db);
    // From a commit that wrote to db's outbox, under db's lock: wakes the thread.
    void committed(db::Database& db);
    void start();
    void stop();
    // Moves what the outboxes hold into the log once, on the calling thread (before start()).
    std::size_t relay_once();

    // Nothing committed waits to be relayed, and no relayed row waits to be deleted. Call with
    // activity.mutex held.
    bool idle_locked() const;

private:
    using Clock = std::chrono::steady_clock;
    struct OutboxState {
        std::int64_t relayed_through = 0;
        std::int64_t deleted_through = 0;
        Clock::time_point last_delete{};
    };

    void loop();
    std::size_t relay(const std::vector<db::Database*>& dbs, bool flush);
    bool delete_due(const OutboxState& state, bool flush, Clock::time_point now) const;
    void mark_pending_locked(db::Database& db);

    EventLog& log_;
    const LocalBusOptions& options_;
    Activity& activity_;
    Appended appended_;

    // Under activity_.mutex:
    std::vector<db::Database*> outboxes_;
    std::vector<db::Database*> pending_;  // committed to since the relay last looked
    bool busy_ = false;
    bool cleanup_pending_ = false;  // relayed rows not deleted yet
    bool stopping_ = false;
    std::condition_variable wake_;

    // The relay thread's own (or relay_once()'s, before start()).
    std::unordered_map<db::Database*, OutboxState> state_;
    std::thread thread_;
};

}  // namespace ticketd::bus
