#include "order_store.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "db/database.hpp"

namespace ticketd::orders {
namespace {

constexpr const char* ticket_by_id =
    "SELECT id, title, price_cents, user_id, version, order_id FROM tickets WHERE id = ?";
constexpr const char* order_columns =
    "SELECT id, user_id, status, expires_at, ticket_id, ticket_title, price_cents, ticket_version,"
    " version, payment_id, stripe_id, refund_id FROM orders ";

std::optional<std::string> optional_text(SQLite::Statement& q, int column) {
    if (q.getColumn(column).isNull()) return std::nullopt;
    return q.getColumn(column).getString();
}

std::optional<TicketReplica> read_ticket(SQLite::Statement& q, const std::string& id) {
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return TicketReplica{q.getColumn(0).getString(), q.getColumn(1).getString(),
                         q.getColumn(2).getInt64(),  q.getColumn(3).getString(),
                         q.getColumn(4).getInt64(),  optional_text(q, 5)};
}

Order read_order(SQLite::Statement& q) {
    return Order{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                 q.getColumn(3).getInt64(),  q.getColumn(4).getString(), q.getColumn(5).getString(),
                 q.getColumn(6).getInt64(),  q.getColumn(7).getInt64(),  q.getColumn(8).getInt64(),
                 optional_text(q, 9),        optional_text(q, 10),       optional_text(q, 11)};
}

std::optional<Order> find_order(SQLite::Statement& q, const std::string& id) {
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return read_order(q);
}

void bind_optional(SQLite::Statement& q, int index, const std::optional<std::string>& v) {
    if (v) q.bind(index, *v);
    else q.bind(index);
}

}  // namespace

std::optional<TicketReplica> OrderStore::find_ticket(db::WriteTx& tx, const std::string& id) {
    return read_ticket(tx.statement(ticket_by_id), id);
}

std::optional<TicketReplica> OrderStore::find_ticket(db::ReadLock& read, const std::string& id) {
    return read_ticket(read.statement(ticket_by_id), id);
}

void OrderStore::insert_ticket(db::WriteTx& tx, const TicketReplica& t) {
    auto& q = tx.statement(
        "INSERT INTO tickets (id, title, price_cents, user_id, version, order_id) VALUES (?, ?, ?, ?, ?, ?)");
    q.bind(1, t.id);
    q.bind(2, t.title);
    q.bind(3, t.price_cents);
    q.bind(4, t.user_id);
    q.bind(5, t.version);
    bind_optional(q, 6, t.order_id);
    q.exec();
}

void OrderStore::update_ticket(db::WriteTx& tx, const TicketReplica& t) {
    auto& q = tx.statement(
        "UPDATE tickets SET title = ?, price_cents = ?, user_id = ?, version = ?, order_id = ? WHERE id = ?");
    q.bind(1, t.title);
    q.bind(2, t.price_cents);
    q.bind(3, t.user_id);
    q.bind(4, t.version);
    bind_optional(q, 5, t.order_id);
    q.bind(6, t.id);
    q.exec();
}

std::optional<Order> OrderStore::find(db::WriteTx& tx, const std::string& id) {
    return find_order(tx.statement(std::string(order_columns) + "WHERE id = ?"), id);
}

std::optional<Order> OrderStore::find(db::ReadLock& read, const std::string& id) {
    return find_order(read.statement(std::string(order_columns) + "WHERE id = ?"), id);
}

std::vector<Order> OrderStore::list_for_user(db::ReadLock& read, const std::string& user_id) {
    auto& q = read.statement(std::string(order_columns) + "WHERE user_id = ? ORDER BY n DESC");
    q.bind(1, user_id);
    std::vector<Order> out;
    while (q.executeStep()) out.push_back(read_order(q));
    return out;
}

bool OrderStore::has_active_order(db::ReadLock& read, const std::string& ticket_id) {
    // The WHERE matches orders_one_active_per_ticket, so this is one lookup in that index.
    auto& q = read.statement(
        "SELECT 1 FROM orders WHERE ticket_id = ? AND status IN ('created', 'awaiting:payment', 'complete')");
    q.bind(1, ticket_id);
    return q.executeStep();
}

bool OrderStore::insert(db::WriteTx& tx, const Order& o, std::int64_t now_ms) {
    auto& q = tx.statement(
        "INSERT INTO orders (id, user_id, status, expires_at, ticket_id, ticket_title, price_cents,"
        " ticket_version, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, o.id);
    q.bind(2, o.user_id);
    q.bind(3, o.status);
    q.bind(4, o.expires_at_ms);
    q.bind(5, o.ticket_id);
    q.bind(6, o.ticket_title);
    q.bind(7, o.price_cents);
    q.bind(8, o.ticket_version);
    q.bind(9, o.version);
    q.bind(10, now_ms);
    q.bind(11, now_ms);
    try {
        q.exec();
    } catch (const std::exception& e) {
        if (db::is_unique_violation(e)) return false;
        throw;
    }
    return true;
}

void OrderStore::update(db::WriteTx& tx, const Order& o, std::int64_t now_ms) {
    auto& q = tx.statement(
        "UPDATE orders SET status = ?, version = ?, payment_id = ?, stripe_id = ?, refund_id = ?,"
        " updated_at = ? WHERE id = ?");
    q.bind(1, o.status);
    q.bind(2, o.version);
    bind_optional(q, 3, o.payment_id);
    bind_optional(q, 4, o.stripe_id);
    bind_optional(q, 5, o.refund_id);
    q.bind(6, now_ms);
    q.bind(7, o.id);
    q.exec();
}

}  // namespace ticketd::orders
