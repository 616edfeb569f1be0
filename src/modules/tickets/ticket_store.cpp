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

SearchResult TicketStore::search(db::ReadLock& read, const SearchQuery& q) {
    // One statement text per combination of filters (a dozen, each prepared once and cached).
    // With words, the title index drives and the few matches are sorted; without, the partial
    // indexes on listed tickets give the order.
    std::string from =
        q.match.empty() ? " FROM tickets t" : " FROM tickets_fts JOIN tickets t ON t.n = tickets_fts.rowid";
    std::string where = " WHERE t.order_id IS NULL";
    if (!q.match.empty()) where += " AND tickets_fts MATCH ?";
    if (q.min_cents) where += " AND t.price_cents >= ?";
    if (q.max_cents) where += " AND t.price_cents <= ?";
    auto bind = [&](SQLite::Statement& s) {
        int i = 0;
        if (!q.match.empty()) s.bind(++i, q.match);
        if (q.min_cents) s.bind(++i, *q.min_cents);
        if (q.max_cents) s.bind(++i, *q.max_cents);
        return i;
    };
    const char* order = q.sort == SearchSort::price_ascending    ? " ORDER BY t.price_cents ASC, t.n DESC"
                        : q.sort == SearchSort::price_descending ? " ORDER BY t.price_cents DESC, t.n DESC"
                                                                 : " ORDER BY t.n DESC";
    SearchResult out;
    auto& page = read.statement("SELECT t.id, t.title, t.price_cents, t.user_id, t.version, t.order_id" + from + where +
                                order + " LIMIT ? OFFSET ?");
    int i = bind(page);
    page.bind(i + 1, q.limit);
    page.bind(i + 2, q.offset);
    while (page.executeStep()) out.tickets.push_back(read_row(page));
    page.reset();
    bool filtered = !q.match.empty() || q.min_cents || q.max_cents;
    auto& count = filtered ? read.statement("SELECT count(*)" + from + where)
                           : read.statement("SELECT count FROM tickets_listed_count");
    if (filtered) bind(count);
    if (count.executeStep()) out.total = count.getColumn(0).getInt64();
    count.reset();
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

std::int64_t TicketStore::count_by_seller(db::ReadLock& read, const std::string& user_id) {
    auto& q = db::query(read, "SELECT count(*) FROM tickets WHERE user_id = ?", user_id);
    std::int64_t n = q.executeStep() ? q.getColumn(0).getInt64() : 0;
    q.reset();
    return n;
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
