#include "ticket_store.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "db/database.hpp"
#include "db/query.hpp"

namespace ticketd::tickets {
namespace {

// The columns read_row() reads, in its order, of tickets `t`.
#define TICKET_COLUMNS                                                                     \
    "t.id, t.title, t.price_cents, t.user_id, t.version, t.order_id, t.face_value_cents, " \
    "t.sold_order_id, t.order_price_cents"

constexpr const char* select_one = "SELECT " TICKET_COLUMNS " FROM tickets t WHERE id = ?";

Ticket read_row(SQLite::Statement& q) {
    Ticket t{.id = q.getColumn(0).getString(),
             .title = q.getColumn(1).getString(),
             .price_cents = q.getColumn(2).getInt64(),
             .user_id = q.getColumn(3).getString(),
             .version = q.getColumn(4).getInt64(),
             .order_id = std::nullopt};
    if (!q.getColumn(5).isNull()) t.order_id = q.getColumn(5).getString();
    if (!q.getColumn(6).isNull()) t.face_value_cents = q.getColumn(6).getInt64();
    if (!q.getColumn(7).isNull()) t.sold_order_id = q.getColumn(7).getString();
    if (!q.getColumn(8).isNull()) t.order_price_cents = q.getColumn(8).getInt64();
    return t;
}

template <class Tx>
std::optional<Ticket> find_in(Tx& tx, const std::string& id) {
    auto& q = db::query(tx, select_one, id);
    if (!q.executeStep()) return std::nullopt;
    return read_row(q);
}

}  // namespace

std::optional<Ticket> TicketStore::find(db::ReadLock& read, const std::string& id) {
    return find_in(read, id);
}

std::optional<Ticket> TicketStore::find(db::WriteTx& tx, const std::string& id) {
    return find_in(tx, id);
}

SearchResult TicketStore::search(db::ReadLock& read, const SearchQuery& q) {
    // One statement text per combination of filters (a dozen, each prepared once and cached).
    // With words, the title index (listed tickets only) drives: newest first is its own order,
    // and without a price filter it counts the matches alone. Without words, the partial indexes
    // on listed tickets give the order.
    bool words = !q.match.empty();
    std::string from =
        words ? " FROM tickets_fts JOIN tickets t ON t.n = tickets_fts.rowid" : " FROM tickets t";
    std::string where = words ? " WHERE tickets_fts MATCH ?" : " WHERE t.order_id IS NULL";
    if (q.min_cents) where += " AND t.price_cents >= ?";
    if (q.max_cents) where += " AND t.price_cents <= ?";
    auto bind = [&](SQLite::Statement& s, bool prices) {
        int i = 0;
        if (words) s.bind(++i, q.match);
        if (prices && q.min_cents) s.bind(++i, *q.min_cents);
        if (prices && q.max_cents) s.bind(++i, *q.max_cents);
        return i;
    };
    const char* order =
        q.sort == SearchSort::price_ascending    ? " ORDER BY t.price_cents ASC, t.n DESC"
        : q.sort == SearchSort::price_descending ? " ORDER BY t.price_cents DESC, t.n DESC"
        : words                                  ? " ORDER BY tickets_fts.rowid DESC"
                                                 : " ORDER BY t.n DESC";
    SearchResult out;
    bool prices = q.min_cents || q.max_cents;
    if (words && (prices || q.sort != SearchSort::newest)) {
        // Every match has to be read (to filter or sort by price) and counted: in one pass, which
        // evaluates the MATCH once, reading columns only for the rows of the page.
        auto& all = read.statement("SELECT " TICKET_COLUMNS + from + where + order);
        bind(all, true);
        while (all.executeStep()) {
            if (out.total >= q.offset && out.total < q.offset + q.limit)
                out.tickets.push_back(read_row(all));
            ++out.total;
        }
        all.reset();
        return out;
    }
    auto& page =
        read.statement("SELECT " TICKET_COLUMNS + from + where + order + " LIMIT ? OFFSET ?");
    int i = bind(page, true);
    page.bind(i + 1, q.limit);
    page.bind(i + 2, q.offset);
    while (page.executeStep()) out.tickets.push_back(read_row(page));
    page.reset();
    auto& count = prices ? read.statement("SELECT count(*)" + from + where)
                  : words
                      ? read.statement("SELECT count(*) FROM tickets_fts WHERE tickets_fts MATCH ?")
                      : read.statement("SELECT count FROM tickets_listed_count");
    bind(count, prices);
    if (count.executeStep()) out.total = count.getColumn(0).getInt64();
    count.reset();
    return out;
}

SearchResult TicketStore::search_owned(db::ReadLock& read, const std::string& owner_id,
                                       const SearchQuery& q) {
    // An owner has few tickets: their index (tickets_by_owner) drives, and the words are matched
    // here, by the title index's rule (SearchQuery::matches), since the index holds listed
    // tickets only. One pass reads, filters and counts, as above.
    bool words = !q.words.empty();
    std::string sql = "SELECT " TICKET_COLUMNS " FROM tickets t WHERE t.user_id = ?";
    if (q.min_cents) sql += " AND t.price_cents >= ?";
    if (q.max_cents) sql += " AND t.price_cents <= ?";
    sql += q.sort == SearchSort::price_ascending    ? " ORDER BY t.price_cents ASC, t.n DESC"
           : q.sort == SearchSort::price_descending ? " ORDER BY t.price_cents DESC, t.n DESC"
                                                    : " ORDER BY t.n DESC";
    auto& all = read.statement(sql);
    int i = 0;
    all.bind(++i, owner_id);
    if (q.min_cents) all.bind(++i, *q.min_cents);
    if (q.max_cents) all.bind(++i, *q.max_cents);
    SearchResult out;
    while (all.executeStep()) {
        if (words &&
            !q.matches(words_.words(all.getColumn(1).getString()), all.getColumn(2).getInt64()))
            continue;
        if (out.total >= q.offset && out.total < q.offset + q.limit)
            out.tickets.push_back(read_row(all));
        ++out.total;
    }
    all.reset();
    return out;
}

void TicketStore::insert(db::WriteTx& tx, const Ticket& t, std::int64_t now_ms) {
    db::exec(tx,
             "INSERT INTO tickets (id, title, price_cents, user_id, version, order_id, created_at, "
             "updated_at)"
             " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             t.id, t.title, t.price_cents, t.user_id, t.version, t.order_id, now_ms, now_ms);
    // No page cached now, none before the commit: the transaction holds the database's mutex,
    // which every reader needs to cache a page. Then nothing to work out on this write.
    if (pages_.empty()) return;
    std::vector<Listed> changed;
    if (!t.order_id) changed.push_back(listed(t));
    tx.on_commit_locked([this, changed = std::move(changed)] { forget_pages_matching(changed); });
}

TicketStore::Listed TicketStore::listed(const Ticket& t) const {
    return {.words = words_.words(t.title), .price_cents = t.price_cents};
}

void TicketStore::update(db::WriteTx& tx, const Ticket& t, std::int64_t now_ms) {
    // The searches this change can alter: those the ticket was listed in, and those it is now
    // (none to work out while no page is cached, as in insert()).
    std::vector<Listed> changed;
    if (!pages_.empty()) {
        if (auto before = find_in(tx, t.id); before && !before->order_id)
            changed.push_back(listed(*before));
        if (!t.order_id) changed.push_back(listed(t));
    }
    db::exec(tx,
             "UPDATE tickets SET title = ?, price_cents = ?, user_id = ?, version = ?,"
             " order_id = ?, face_value_cents = ?, sold_order_id = ?, order_price_cents = ?,"
             " updated_at = ? WHERE id = ?",
             t.title, t.price_cents, t.user_id, t.version, t.order_id, t.face_value_cents,
             t.sold_order_id, t.order_price_cents, now_ms, t.id);
    tx.on_commit_locked([this, id = t.id, changed = std::move(changed)] {
        bodies_.erase(id);
        forget_pages_matching(changed);
    });
}

std::size_t TicketStore::page_cost(const std::string& key, const Page& page) {
    std::size_t words = 0;
    for (const auto& w : page.query.words) words += sizeof w + w.size();
    return sizeof(Page) + key.size() + page.body.size() + page.query.match.size() + words;
}

void TicketStore::forget_pages_matching(const std::vector<Listed>& changed) {
    if (changed.empty()) return;  // reserved or sold before and after: in no search's results
    std::erase_if(pages_, [&](const auto& entry) {
        const auto& [key, page] = entry;
        for (const auto& t : changed) {
            if (page.query.matches(t.words, t.price_cents)) {
                pages_bytes_ -= page_cost(key, page);
                return true;
            }
        }
        return false;
    });
}

const std::string* TicketStore::cached_body(db::ReadLock&, const std::string& id) const {
    auto it = bodies_.find(id);
    return it == bodies_.end() ? nullptr : &it->second;
}

const std::string& TicketStore::remember_body(db::ReadLock&, const std::string& id,
                                              std::string body) {
    if (bodies_.size() >= max_cached_bodies) bodies_.clear();  // simple bound: start over
    return bodies_.insert_or_assign(id, std::move(body)).first->second;
}

const TicketStore::Page* TicketStore::cached_page(db::ReadLock&, const std::string& key) const {
    auto it = pages_.find(key);
    return it == pages_.end() ? nullptr : &it->second;
}

const TicketStore::Page& TicketStore::remember_page(db::ReadLock&, const std::string& key,
                                                    Page page) {
    // A simple bound: start over.
    if (pages_bytes_ + page_cost(key, page) > max_cached_page_bytes ||
        pages_.size() >= max_cached_pages) {
        pages_.clear();
        pages_bytes_ = 0;
    }
    if (auto it = pages_.find(key); it != pages_.end()) pages_bytes_ -= page_cost(key, it->second);
    pages_bytes_ += page_cost(key, page);
    return pages_.insert_or_assign(key, std::move(page)).first->second;
}

void TicketStore::mark_released(db::WriteTx& tx, const std::string& order_id) {
    db::exec(tx, "INSERT INTO released_orders (order_id) VALUES (?) ON CONFLICT DO NOTHING",
             order_id);
}

void TicketStore::record_sale(db::WriteTx& tx, const std::string& id, const std::string& buyer_id,
                              std::int64_t now_ms) {
    db::exec(tx, "UPDATE tickets SET sold_to = ?, sold_at = ? WHERE id = ?", buyer_id, now_ms, id);
}

void TicketStore::add_history(db::WriteTx& tx, const std::string& id, std::int64_t at_ms,
                              std::string_view event, std::int64_t price_cents) {
    db::exec(tx,
             "INSERT INTO ticket_history (ticket_id, at, event, price_cents) VALUES (?, ?, ?, ?)",
             id, at_ms, event, price_cents);
}

std::vector<HistoryEntry> TicketStore::history(db::ReadLock& read, const std::string& id) {
    auto& q = db::query(
        read, "SELECT at, event, price_cents FROM ticket_history WHERE ticket_id = ? ORDER BY n",
        id);
    std::vector<HistoryEntry> out;
    while (q.executeStep())
        out.push_back({.at_ms = q.getColumn(0).getInt64(),
                       .event = q.getColumn(1).getString(),
                       .price_cents = q.getColumn(2).getInt64()});
    q.reset();
    return out;
}

bool TicketStore::is_released(db::WriteTx& tx, const std::string& order_id) {
    return db::query(tx, "SELECT 1 FROM released_orders WHERE order_id = ?", order_id)
        .executeStep();
}

void TicketStore::add_waiting(db::WriteTx& tx, const std::string& ticket_id,
                              const WaitingReservation& r, std::int64_t now_ms) {
    db::exec(tx,
             "INSERT INTO waiting_reservations (order_id, ticket_id, price_cents, seen_at)"
             " VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
             r.order_id, ticket_id, r.price_cents, now_ms);
}

std::optional<TicketStore::WaitingReservation> TicketStore::take_next_waiting(
    db::WriteTx& tx, const std::string& ticket_id) {
    // No cancelled or completed order has a row: its order:cancelled or order:completed takes it.
    auto& q = db::query(tx,
                        "DELETE FROM waiting_reservations WHERE order_id ="
                        " (SELECT order_id FROM waiting_reservations WHERE ticket_id = ?"
                        " ORDER BY seen_at, order_id LIMIT 1) RETURNING order_id, price_cents",
                        ticket_id);
    if (!q.executeStep()) return std::nullopt;
    WaitingReservation r{.order_id = q.getColumn(0).getString(),
                         .price_cents = q.getColumn(1).getInt64()};
    q.reset();
    return r;
}

std::optional<TicketStore::WaitingReservation> TicketStore::take_waiting(
    db::WriteTx& tx, const std::string& order_id) {
    auto& q = db::query(
        tx, "DELETE FROM waiting_reservations WHERE order_id = ? RETURNING price_cents", order_id);
    if (!q.executeStep()) return std::nullopt;
    WaitingReservation r{.order_id = order_id, .price_cents = q.getColumn(0).getInt64()};
    q.reset();
    return r;
}

}  // namespace ticketd::tickets

#undef TICKET_COLUMNS
