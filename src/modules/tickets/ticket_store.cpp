#include "ticket_store.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "db/database.hpp"
#include "db/query.hpp"

namespace ticketd::tickets {
namespace {

constexpr const char* select_one =
    "SELECT id, title, price_cents, user_id, version, order_id FROM tickets WHERE id = ?";

Ticket read_row(SQLite::Statement& q) {
    Ticket t{.id = q.getColumn(0).getString(),
             .title = q.getColumn(1).getString(),
             .price_cents = q.getColumn(2).getInt64(),
             .user_id = q.getColumn(3).getString(),
             .version = q.getColumn(4).getInt64(),
             .order_id = std::nullopt};
    if (!q.getColumn(5).isNull()) t.order_id = q.getColumn(5).getString();
    return t;
}

template <class Tx>
std::optional<Ticket> find_in(Tx& tx, const std::string& id) {
    auto& q = db::query(tx, select_one, id);
    if (!q.executeStep()) return std::nullopt;
    return read_row(q);
}

}  // namespace

std::optional<Ticket> TicketStore::find(db::ReadLock& read, const std::string& id) { return find_in(read, id); }

std::optional<Ticket> TicketStore::find(db::WriteTx& tx, const std::string& id) { return find_in(tx, id); }

std::vector<Ticket> TicketStore::list_available(db::ReadLock& read, std::int64_t limit, std::int64_t offset) {
    auto& q = db::query(read,
                        "SELECT id, title, price_cents, user_id, version, order_id FROM tickets"
                        " WHERE order_id IS NULL ORDER BY n DESC LIMIT ? OFFSET ?",
                        limit, offset);
    std::vector<Ticket> out;
    while (q.executeStep()) out.push_back(read_row(q));
    return out;
}

std::vector<Ticket> TicketStore::list_by_seller(db::ReadLock& read, const std::string& user_id, std::int64_t limit,
                                                std::int64_t offset) {
    auto& q = db::query(read,
                        "SELECT id, title, price_cents, user_id, version, order_id FROM tickets"
                        " WHERE user_id = ? ORDER BY n DESC LIMIT ? OFFSET ?",
                        user_id, limit, offset);
    std::vector<Ticket> out;
    while (q.executeStep()) out.push_back(read_row(q));
    return out;
}

void TicketStore::insert(db::WriteTx& tx, const Ticket& t, std::int64_t now_ms) {
    db::exec(tx,
             "INSERT INTO tickets (id, title, price_cents, user_id, version, order_id, created_at, updated_at)"
             " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             t.id, t.title, t.price_cents, t.user_id, t.version, t.order_id, now_ms, now_ms);
}

void TicketStore::update(db::WriteTx& tx, const Ticket& t, std::int64_t now_ms) {
    db::exec(tx,
             "UPDATE tickets SET title = ?, price_cents = ?, user_id = ?, version = ?, order_id = ?, updated_at = ?"
             " WHERE id = ?",
             t.title, t.price_cents, t.user_id, t.version, t.order_id, now_ms, t.id);
    tx.on_commit_locked([this, id = t.id] { bodies_.erase(id); });
}

const std::string* TicketStore::cached_body(db::ReadLock&, const std::string& id) const {
    auto it = bodies_.find(id);
    return it == bodies_.end() ? nullptr : &it->second;
}

const std::string& TicketStore::remember_body(db::ReadLock&, const std::string& id, std::string body) {
    if (bodies_.size() >= max_cached_bodies) bodies_.clear();  // simple bound: start over
    return bodies_.insert_or_assign(id, std::move(body)).first->second;
}

void TicketStore::mark_released(db::WriteTx& tx, const std::string& order_id) {
    db::exec(tx, "INSERT INTO released_orders (order_id) VALUES (?) ON CONFLICT DO NOTHING", order_id);
}

void TicketStore::record_sale(db::WriteTx& tx, const std::string& id, const std::string& buyer_id,
                              std::int64_t now_ms) {
    db::exec(tx, "UPDATE tickets SET sold_to = ?, sold_at = ? WHERE id = ?", buyer_id, now_ms, id);
}

bool TicketStore::is_released(db::WriteTx& tx, const std::string& order_id) {
    return db::query(tx, "SELECT 1 FROM released_orders WHERE order_id = ?", order_id).executeStep();
}

}  // namespace ticketd::tickets
