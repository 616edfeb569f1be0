#pragma once
// The event log in bus.db (schema set "bus"), and all the SQL that touches it: appends, reads,
// the registry of durable subscriber names, dead letters, and the figures that metrics and
// tools show. The relay and delivery of LocalBus use it, and so do `ticketd events`,
// `ticketd dead-letters` and /metrics, so none of them writes SQL of its own against the log.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.hpp"
#include "bus/outbox.hpp"

namespace ticketd::db {
class Database;
}

namespace ticketd::bus {

class EventLog {
public:
    // `db` is bus.db with the "bus" schema applied; it must outlive this.
    explicit EventLog(db::Database& db) : db_(db) {}

    // One publishing database's rows, for append().
    struct Source {
        const std::string& name;
        const std::vector<OutboxRow>& rows;
    };
    // Appends every source's rows in one transaction, in order, numbered after everything
    // logged. An event id already logged is skipped: appending a row twice (left in its outbox
    // by a crash) is a no-op. Not synced: see sync().
    void append(std::span<const Source> sources);
    // Blocks until every append so far is on disk.
    void sync();

    // Up to `limit` events of `subject` after sequence number `after`, oldest first.
    std::vector<RawEvent> read(std::string_view subject, std::int64_t after, int limit);
    // Up to `limit` events after `after`, of one subject or (empty) every subject.
    std::vector<RawEvent> read_all(std::int64_t after, std::string_view subject, int limit);
    std::int64_t head();                          // the newest sequence number (0: empty)
    std::int64_t head(std::string_view subject);  // the newest of one subject
    // Events of `subject` after `position`: how far a subscriber there is behind.
    std::int64_t count_after(std::string_view subject, std::int64_t position);

    // Records the durable name `subscriber` for `subject`. Throws std::logic_error if the name
    // was registered for another subject. Returns the position kept here by versions that kept
    // positions in bus.db, if the name was registered by one.
    std::optional<std::int64_t> register_subscriber(const std::string& subscriber,
                                                    const std::string& subject);

    // Parks `event` for `subscriber` and syncs: once this returns the subscriber may move past
    // it. Parking the same (subscriber, seq) again replaces the first record.
    void park(const std::string& subscriber, const RawEvent& event, const std::string& error,
              int attempts);
    // The oldest dead letter of `subscriber` re-queued by `ticketd dead-letters retry` and not
    // yet redelivered.
    std::optional<DeadLetter> next_requeued(const std::string& subscriber);
    void mark_redelivered(std::int64_t id);
    // A re-queued dead letter failed again: parked again with the new error.
    void park_again(std::int64_t id, const std::string& error);
    // Parked events not yet redelivered, oldest first.
    std::vector<DeadLetter> dead_letters();
    std::int64_t dead_letter_count();
    // Marks dead letter `id` for redelivery (a running server picks it up within a second).
    // False if there is no such parked event.
    bool requeue(std::int64_t id);

private:
    db::Database& db_;
};

}  // namespace ticketd::bus
