#include "bus/outbox.hpp"

#include "db/database.hpp"
#include "db/query.hpp"
#include "util/ids.hpp"

namespace ticketd::bus {

void outbox::write(db::WriteTx& tx, std::string_view subject, const std::string& payload,
                   std::int64_t now_ms) {
    db::exec(tx, "INSERT INTO outbox (event_id, subject, payload, created_at) VALUES (?, ?, ?, ?)",
             util::time_ordered_id(), subject, payload, now_ms);
}

std::vector<OutboxRow> outbox::read(db::Database& db, std::int64_t after, int limit) {
    std::vector<OutboxRow> rows;
    db::ReadLock read(db);
    auto& q = db::query(read,
                        "SELECT id, event_id, subject, payload, created_at FROM outbox WHERE id > "
                        "? ORDER BY id LIMIT ?",
                        after, limit);
    while (q.executeStep())
        rows.push_back({.id = q.getColumn(0).getInt64(),
                        .event_id = q.getColumn(1).getString(),
                        .subject = q.getColumn(2).getString(),
                        .payload = q.getColumn(3).getString(),
                        .created_at_ms = q.getColumn(4).getInt64()});
    return rows;
}

void outbox::remove_through(db::Database& db, std::int64_t through) {
    db::WriteTx tx(db);
    db::exec(tx, "DELETE FROM outbox WHERE id <= ?", through);
    tx.commit();
}

std::int64_t outbox::count(db::Database& db) {
    db::ReadLock read(db);
    auto& q = db::query(read, "SELECT count(*) FROM outbox");
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

bool inbox::record(db::WriteTx& tx, const std::string& subscriber, const std::string& event_id,
                   std::int64_t now_ms) {
    return db::exec(tx,
                    "INSERT INTO inbox (subscriber, event_id, processed_at) VALUES (?, ?, ?) ON "
                    "CONFLICT DO NOTHING",
                    subscriber, event_id, now_ms) > 0;
}

bool inbox::contains(db::WriteTx& tx, const std::string& subscriber, const std::string& event_id) {
    return db::query(tx, "SELECT 1 FROM inbox WHERE subscriber = ? AND event_id = ?", subscriber,
                     event_id)
        .executeStep();
}

std::size_t inbox::prune(db::Database& db, const std::string& subscriber, const std::string& before,
                         int limit) {
    db::WriteTx tx(db);
    auto n = db::exec(tx,
                      "DELETE FROM inbox WHERE subscriber = ? AND event_id IN"
                      " (SELECT event_id FROM inbox WHERE subscriber = ? AND event_id < ? LIMIT ?)",
                      subscriber, subscriber, before, limit);
    tx.commit();
    return static_cast<std::size_t>(n);
}

std::int64_t position::load(db::Database& db, const std::string& subscriber, std::int64_t initial,
                            std::int64_t now_ms) {
    db::WriteTx tx(db);
    auto& q = db::query(tx, "SELECT position FROM bus_positions WHERE subscriber = ?", subscriber);
    if (q.executeStep()) return q.getColumn(0).getInt64();
    db::exec(tx, "INSERT INTO bus_positions (subscriber, position, updated_at) VALUES (?, ?, ?)",
             subscriber, initial, now_ms);
    tx.commit();
    return initial;
}

void position::save(db::WriteTx& tx, const std::string& subscriber, std::int64_t seq,
                    std::int64_t now_ms) {
    db::exec(tx, "UPDATE bus_positions SET position = ?, updated_at = ? WHERE subscriber = ?", seq,
             now_ms, subscriber);
}

std::int64_t position::read(db::Database& db, const std::string& subscriber) {
    db::ReadLock read(db);
    auto& q =
        db::query(read, "SELECT position FROM bus_positions WHERE subscriber = ?", subscriber);
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

}  // namespace ticketd::bus
