#include "order_store.hpp"

#include <stdexcept>

#include "db/database.hpp"
#include "db/query.hpp"

namespace ticketd::orders {
namespace {

OrderStatus status_from_text(const std::string& text) {
    if (text == "created") return OrderStatus::created;
    if (text == "cancelled") return OrderStatus::cancelled;
    if (text == "awaiting:payment") return OrderStatus::awaiting_payment;
    if (text == "complete") return OrderStatus::complete;
    throw std::runtime_error("orders.db holds an unknown order status: " + text);
}

std::optional<std::string> optional_text(SQLite::Statement& q, int column) {
    if (q.getColumn(column).isNull()) return std::nullopt;
    return q.getColumn(column).getString();
}

constexpr const char* ticket_by_id =
    "SELECT id, title, price_cents, user_id, version, order_id FROM tickets WHERE id = ?";

template <class Tx>
std::optional<TicketReplica> find_ticket_in(Tx& tx, const std::string& id) {
    auto& q = db::query(tx, ticket_by_id, id);
    if (!q.executeStep()) return std::nullopt;
    return TicketReplica{.id = q.getColumn(0).getString(),
                         .title = q.getColumn(1).getString(),
                         .price_cents = q.getColumn(2).getInt64(),
                         .user_id = q.getColumn(3).getString(),
                         .version = q.getColumn(4).getInt64(),
                         .order_id = optional_text(q, 5)};
}

// A SELECT of the columns read_order() reads, in its order, then `rest`.
std::string select_orders(std::string_view rest) {
    return "SELECT id, user_id, status, expires_at, ticket_id, ticket_title, price_cents, "
           "ticket_version,"
           " version, payment_id, stripe_id, refund_id, released FROM orders " +
           std::string(rest);
}

Order read_order(SQLite::Statement& q) {
    return {.id = q.getColumn(0).getString(),
            .user_id = q.getColumn(1).getString(),
            .status = status_from_text(q.getColumn(2).getString()),
            .expires_at_ms = q.getColumn(3).getInt64(),
            .ticket_id = q.getColumn(4).getString(),
            .ticket_title = q.getColumn(5).getString(),
            .price_cents = q.getColumn(6).getInt64(),
            .ticket_version = q.getColumn(7).getInt64(),
            .version = q.getColumn(8).getInt64(),
            .payment_id = optional_text(q, 9),
            .stripe_id = optional_text(q, 10),
            .refund_id = optional_text(q, 11),
            .released = q.getColumn(12).getInt() != 0};
}

template <class Tx>
Place place_in(Tx& tx, const std::string& ticket_id, const std::string& user_id) {
    // The caller's position is the number of places up to theirs: one pass over the ticket's line.
    auto& q = db::query(
        tx,
        "SELECT count(*), (SELECT count(*) FROM waitlist w WHERE w.ticket_id = ?1 AND w.n <="
        " (SELECT n FROM waitlist WHERE ticket_id = ?1 AND user_id = ?2)),"
        " EXISTS (SELECT 1 FROM waitlist WHERE ticket_id = ?1 AND user_id = ?2)"
        " FROM waitlist WHERE ticket_id = ?1",
        ticket_id, user_id);
    Place out;
    if (q.executeStep()) {
        out.length = q.getColumn(0).getInt64();
        if (q.getColumn(2).getInt() != 0) out.position = q.getColumn(1).getInt64();
    }
    q.reset();
    return out;
}

template <class Tx>
std::optional<Order> find_in(Tx& tx, const std::string& id) {
    static const std::string sql = select_orders("WHERE id = ?");
    auto& q = db::query(tx, sql, id);
    if (!q.executeStep()) return std::nullopt;
    return read_order(q);
}

}  // namespace

std::string_view to_text(OrderStatus status) {
    switch (status) {
        case OrderStatus::created: return "created";
        case OrderStatus::cancelled: return "cancelled";
        case OrderStatus::awaiting_payment: return "awaiting:payment";
        case OrderStatus::complete: return "complete";
    }
    return "created";
}

std::optional<TicketReplica> OrderStore::find_ticket(db::WriteTx& tx, const std::string& id) {
    return find_ticket_in(tx, id);
}

std::optional<TicketReplica> OrderStore::find_ticket(db::ReadLock& read, const std::string& id) {
    return find_ticket_in(read, id);
}

void OrderStore::insert_ticket(db::WriteTx& tx, const TicketReplica& t) {
    db::exec(tx,
             "INSERT INTO tickets (id, title, price_cents, user_id, version, order_id) VALUES (?, "
             "?, ?, ?, ?, ?)",
             t.id, t.title, t.price_cents, t.user_id, t.version, t.order_id);
}

void OrderStore::update_ticket(db::WriteTx& tx, const TicketReplica& t) {
    db::exec(tx,
             "UPDATE tickets SET title = ?, price_cents = ?, user_id = ?, version = ?, order_id = "
             "? WHERE id = ?",
             t.title, t.price_cents, t.user_id, t.version, t.order_id, t.id);
}

std::optional<Order> OrderStore::find(db::WriteTx& tx, const std::string& id) {
    return find_in(tx, id);
}

std::optional<Order> OrderStore::find(db::ReadLock& read, const std::string& id) {
    return find_in(read, id);
}

std::vector<Order> OrderStore::list_for_user(db::ReadLock& read, const std::string& user_id) {
    static const std::string sql = select_orders("WHERE user_id = ? ORDER BY n DESC");
    auto& q = db::query(read, sql, user_id);
    std::vector<Order> out;
    while (q.executeStep()) out.push_back(read_order(q));
    return out;
}

bool OrderStore::has_active_order(db::ReadLock& read, const std::string& ticket_id) {
    // The WHERE matches orders_one_active_per_ticket, so this is one lookup in that index.
    return db::
        query(read,
              "SELECT 1 FROM orders WHERE ticket_id = ? AND status <> 'cancelled' AND released = 0",
              ticket_id)
            .executeStep();
}

std::optional<Order> OrderStore::active_order(db::WriteTx& tx, const std::string& ticket_id) {
    static const std::string sql =
        select_orders("WHERE ticket_id = ? AND status <> 'cancelled' AND released = 0");
    auto& q = db::query(tx, sql, ticket_id);
    std::optional<Order> out;
    if (q.executeStep()) out = read_order(q);
    q.reset();
    return out;
}

bool OrderStore::insert(db::WriteTx& tx, const Order& o, std::int64_t now_ms) {
    try {
        db::exec(tx,
                 "INSERT INTO orders (id, user_id, status, expires_at, ticket_id, ticket_title, "
                 "price_cents,"
                 " ticket_version, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
                 "?, ?, ?, ?)",
                 o.id, o.user_id, to_text(o.status), o.expires_at_ms, o.ticket_id, o.ticket_title,
                 o.price_cents, o.ticket_version, o.version, now_ms, now_ms);
    } catch (const std::exception& e) {
        if (db::is_unique_violation(e)) return false;
        throw;
    }
    return true;
}

void OrderStore::update(db::WriteTx& tx, const Order& o, std::int64_t now_ms) {
    db::exec(tx,
             "UPDATE orders SET status = ?, version = ?, payment_id = ?, stripe_id = ?, refund_id "
             "= ?, released = ?,"
             " updated_at = ? WHERE id = ?",
             to_text(o.status), o.version, o.payment_id, o.stripe_id, o.refund_id,
             o.released ? 1 : 0, now_ms, o.id);
}

Place OrderStore::place(db::ReadLock& read, const std::string& ticket_id,
                        const std::string& user_id) {
    return place_in(read, ticket_id, user_id);
}

Place OrderStore::place(db::WriteTx& tx, const std::string& ticket_id, const std::string& user_id) {
    return place_in(tx, ticket_id, user_id);
}

std::int64_t OrderStore::waiting(db::WriteTx& tx, const std::string& ticket_id) {
    auto& q = db::query(tx, "SELECT count(*) FROM waitlist WHERE ticket_id = ?", ticket_id);
    std::int64_t n = q.executeStep() ? q.getColumn(0).getInt64() : 0;
    q.reset();
    return n;
}

bool OrderStore::join(db::WriteTx& tx, const std::string& ticket_id, const std::string& user_id,
                      std::int64_t now_ms) {
    return db::exec(tx,
                    "INSERT INTO waitlist (ticket_id, user_id, joined_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (ticket_id, user_id) DO NOTHING",
                    ticket_id, user_id, now_ms) > 0;
}

void OrderStore::leave(db::WriteTx& tx, const std::string& ticket_id, const std::string& user_id) {
    db::exec(tx, "DELETE FROM waitlist WHERE ticket_id = ? AND user_id = ?", ticket_id, user_id);
}

std::optional<std::string> OrderStore::pop_first(db::WriteTx& tx, const std::string& ticket_id) {
    auto& q = db::query(
        tx, "SELECT n, user_id FROM waitlist WHERE ticket_id = ? ORDER BY n LIMIT 1", ticket_id);
    if (!q.executeStep()) {
        q.reset();
        return std::nullopt;
    }
    std::int64_t n = q.getColumn(0).getInt64();
    std::string user_id = q.getColumn(1).getString();
    q.reset();
    db::exec(tx, "DELETE FROM waitlist WHERE n = ?", n);
    return user_id;
}

void OrderStore::clear_line(db::WriteTx& tx, const std::string& ticket_id) {
    db::exec(tx, "DELETE FROM waitlist WHERE ticket_id = ?", ticket_id);
}

}  // namespace ticketd::orders
