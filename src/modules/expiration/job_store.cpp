#include "job_store.hpp"

#include "db/database.hpp"
#include "db/query.hpp"

namespace ticketd::expiration {

void JobStore::add(db::WriteTx& tx, const std::string& order_id, std::int64_t due_ms) {
    db::exec(
        tx,
        "INSERT INTO jobs (order_id, expires_at) VALUES (?, ?) ON CONFLICT (order_id) DO NOTHING",
        order_id, due_ms);
}

bool JobStore::remove(db::WriteTx& tx, const std::string& order_id) {
    return db::exec(tx, "DELETE FROM jobs WHERE order_id = ?", order_id) > 0;
}

void JobStore::remember_ended(db::WriteTx& tx, const std::string& order_id, std::int64_t now_ms) {
    constexpr std::int64_t day_ms = 24 * 3600 * 1000;
    db::exec(tx, "DELETE FROM ended_orders WHERE ended_at < ?", now_ms - day_ms);
    db::exec(tx,
             "INSERT INTO ended_orders (order_id, ended_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
             order_id, now_ms);
}

bool JobStore::take_ended(db::WriteTx& tx, const std::string& order_id) {
    return db::exec(tx, "DELETE FROM ended_orders WHERE order_id = ?", order_id) > 0;
}

std::vector<std::string> JobStore::due(db::WriteTx& tx, std::int64_t now_ms, int limit) {
    auto& q =
        db::query(tx, "SELECT order_id FROM jobs WHERE expires_at <= ? ORDER BY expires_at LIMIT ?",
                  now_ms, limit);
    std::vector<std::string> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
}

std::optional<std::int64_t> JobStore::next_due(db::ReadLock& read) {
    auto& q = db::query(read, "SELECT min(expires_at) FROM jobs");
    if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
    return q.getColumn(0).getInt64();
}

std::int64_t JobStore::count(db::ReadLock& read) {
    auto& q = db::query(read, "SELECT count(*) FROM jobs");
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

}  // namespace ticketd::expiration
