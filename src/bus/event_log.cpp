#include "bus/event_log.hpp"

#include <stdexcept>

#include "db/database.hpp"
#include "db/query.hpp"
#include "util/clock.hpp"
#include "util/time_format.hpp"

namespace ticketd::bus {
namespace {

RawEvent event_from(
    SQLite::Statement& q) {  // columns: seq, event_id, subject, payload, logged_at, source
    return {.seq = q.getColumn(0).getInt64(),
            .id = q.getColumn(1).getString(),
            .subject = q.getColumn(2).getString(),
            .payload = q.getColumn(3).getString(),
            .logged_at_ms = q.getColumn(4).getInt64(),
            .source = q.getColumn(5).getString()};
}

// Columns: id, subscriber, seq, event_id, subject, payload, error, attempts, parked_at.
DeadLetter dead_letter_from(SQLite::Statement& q) {
    return {.id = q.getColumn(0).getInt64(),
            .subscriber = q.getColumn(1).getString(),
            .seq = q.getColumn(2).getInt64(),
            .event_id = q.getColumn(3).getString(),
            .subject = q.getColumn(4).getString(),
            .payload = q.getColumn(5).getString(),
            .error = q.getColumn(6).getString(),
            .attempts = q.getColumn(7).getInt(),
            .parked_at_ms = q.getColumn(8).getInt64()};
}

}  // namespace

void EventLog::append(std::span<const Source> sources) {
    db::WriteTx tx(db_);
    std::int64_t logged_at = util::unix_now_ms();
    for (const auto& source : sources)
        for (const auto& r : source.rows)
            db::exec(
                tx,
                "INSERT INTO events (event_id, subject, payload, source, created_at, logged_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                r.event_id, r.subject, r.payload, source.name, r.created_at_ms, logged_at);
    tx.commit();
}

void EventLog::sync() { db_.sync(); }

std::vector<RawEvent> EventLog::read(std::string_view subject, std::int64_t after, int limit) {
    std::vector<RawEvent> out;
    db::ReadLock read(db_);
    // INDEXED BY: once ANALYZE has seen a log where one subject dominates, the planner would
    // rather walk the whole log by seq than seek a rare subject in the index, and a subscriber
    // of a quiet subject would then scan every event on every pass.
    auto& q = db::query(read,
                        "SELECT seq, event_id, subject, payload, logged_at, source FROM events "
                        "INDEXED BY events_by_subject"
                        " WHERE subject = ? AND seq > ? ORDER BY seq LIMIT ?",
                        subject, after, limit);
    while (q.executeStep()) out.push_back(event_from(q));
    return out;
}

std::vector<RawEvent> EventLog::read_all(std::int64_t after, std::string_view subject, int limit) {
    std::vector<RawEvent> out;
    db::ReadLock read(db_);
    auto& q = db::query(read,
                        "SELECT seq, event_id, subject, payload, logged_at, source FROM events"
                        " WHERE seq > ? AND (? = '' OR subject = ?) ORDER BY seq LIMIT ?",
                        after, subject, subject, limit);
    while (q.executeStep()) out.push_back(event_from(q));
    return out;
}

std::int64_t EventLog::head() {
    db::ReadLock read(db_);
    auto& q = db::query(read, "SELECT coalesce(max(seq), 0) FROM events");
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

std::int64_t EventLog::head(std::string_view subject) {
    db::ReadLock read(db_);
    auto& q = db::query(
        read,
        "SELECT coalesce(max(seq), 0) FROM events INDEXED BY events_by_subject WHERE subject = ?",
        subject);
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

std::int64_t EventLog::count_after(std::string_view subject, std::int64_t position) {
    db::ReadLock read(db_);
    auto& q = db::query(
        read,
        "SELECT count(*) FROM events INDEXED BY events_by_subject WHERE subject = ? AND seq > ?",
        subject, position);
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

std::optional<std::int64_t> EventLog::register_subscriber(const std::string& subscriber,
                                                          const std::string& subject) {
    db::WriteTx tx(db_);
    auto& q =
        db::query(tx, "SELECT position, subject FROM cursors WHERE subscriber = ?", subscriber);
    if (q.executeStep()) {
        if (q.getColumn(1).getString() != subject)
            throw std::logic_error("durable subscriber " + subscriber + " was registered for " +
                                   q.getColumn(1).getString() + ", not " + subject);
        return q.getColumn(0).getInt64();
    }
    db::exec(tx,
             "INSERT INTO cursors (subscriber, subject, position, updated_at) VALUES (?, ?, 0, ?)",
             subscriber, subject, util::unix_now_ms());
    tx.commit();
    return std::nullopt;
}

void EventLog::park(const std::string& subscriber, const RawEvent& event, const std::string& error,
                    int attempts) {
    {
        db::WriteTx tx(db_);
        db::exec(
            tx,
            "INSERT INTO dead_letters (subscriber, seq, event_id, subject, payload, error, "
            "attempts, parked_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscriber, seq) DO UPDATE SET"
            " error = excluded.error, attempts = excluded.attempts, parked_at = excluded.parked_at,"
            " requeued_at = NULL, redelivered_at = NULL",
            subscriber, event.seq, event.id, event.subject, event.payload, error, attempts,
            util::unix_now_ms());
        tx.commit();
    }
    db_.sync();
}

std::optional<DeadLetter> EventLog::next_requeued(const std::string& subscriber) {
    db::ReadLock read(db_);
    auto& q = db::query(
        read,
        "SELECT id, subscriber, seq, event_id, subject, payload, error, attempts, parked_at"
        " FROM dead_letters WHERE subscriber = ? AND requeued_at IS NOT NULL AND"
        " redelivered_at IS NULL ORDER BY id LIMIT 1",
        subscriber);
    if (!q.executeStep()) return std::nullopt;
    return dead_letter_from(q);
}

void EventLog::mark_redelivered(std::int64_t id) {
    db::WriteTx tx(db_);
    db::exec(tx, "UPDATE dead_letters SET redelivered_at = ? WHERE id = ?", util::unix_now_ms(),
             id);
    tx.commit();
}

void EventLog::park_again(std::int64_t id, const std::string& error) {
    db::WriteTx tx(db_);
    db::exec(tx,
             "UPDATE dead_letters SET requeued_at = NULL, error = ?, attempts = attempts + 1 WHERE "
             "id = ?",
             error, id);
    tx.commit();
}

std::vector<DeadLetter> EventLog::dead_letters() {
    std::vector<DeadLetter> out;
    db::ReadLock read(db_);
    auto& q = db::query(
        read,
        "SELECT id, subscriber, seq, event_id, subject, payload, error, attempts, parked_at"
        " FROM dead_letters WHERE redelivered_at IS NULL ORDER BY id");
    while (q.executeStep()) out.push_back(dead_letter_from(q));
    return out;
}

std::int64_t EventLog::dead_letter_count() {
    db::ReadLock read(db_);
    auto& q = db::query(read, "SELECT count(*) FROM dead_letters WHERE redelivered_at IS NULL");
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

bool EventLog::requeue(std::int64_t id) {
    db::WriteTx tx(db_);
    bool found =
        db::exec(tx,
                 "UPDATE dead_letters SET requeued_at = ?, redelivered_at = NULL WHERE id = ? AND"
                 " redelivered_at IS NULL",
                 util::unix_now_ms(), id) > 0;
    tx.commit();
    return found;
}

}  // namespace ticketd::bus
