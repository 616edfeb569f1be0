#include "payment_store.hpp"

#include <array>
#include <stdexcept>

#include <SQLiteCpp/Column.h>

#include "db/database.hpp"
#include "db/query.hpp"
#include "ticketd/events/order_events.hpp"

namespace ticketd::payments {
namespace {

// Statuses as the schema spells them: the one place they are mapped to text.
constexpr std::array<const char*, 5> attempt_text = {"pending", "unknown", "succeeded", "declined",
                                                     "failed"};
constexpr std::array<const char*, 5> refund_text = {"none", "pending", "done", "refused",
                                                    "settled"};

const char* text(AttemptStatus s) { return attempt_text[static_cast<std::size_t>(s)]; }

template <class E, std::size_t N>
E parse(const std::array<const char*, N>& names, const std::string& s) {
    for (std::size_t i = 0; i < N; ++i)
        if (s == names[i]) return static_cast<E>(i);
    throw std::runtime_error("unexpected status in payments.db: " + s);
}

// "SELECT <every column read_attempt reads> FROM payment_attempts <rest>".
std::string select_attempts(std::string_view rest) {
    return "SELECT order_id, attempt, idempotency_key, amount_cents, token, status, checks, "
           "created_at"
           " FROM payment_attempts " +
           std::string(rest);
}

Attempt read_attempt(SQLite::Statement& q) {
    return Attempt{.order_id = q.getColumn(0).getString(),
                   .number = q.getColumn(1).getInt(),
                   .key = q.getColumn(2).getString(),
                   .amount_cents = q.getColumn(3).getInt64(),
                   .token = q.getColumn(4).getString(),
                   .status = parse<AttemptStatus>(attempt_text, q.getColumn(5).getString()),
                   .checks = q.getColumn(6).getInt(),
                   .created_at_ms = q.getColumn(7).getInt64()};
}

Payment read_payment(SQLite::Statement& q) {
    return Payment{.id = q.getColumn(0).getString(),
                   .order_id = q.getColumn(1).getString(),
                   .charge_id = q.getColumn(2).getString(),
                   .amount_cents = q.getColumn(3).getInt64(),
                   .refund_status = parse<RefundStatus>(refund_text, q.getColumn(4).getString()),
                   .refund_error = q.getColumn(5).getString(),
                   .created_at_ms = q.getColumn(6).getInt64()};
}

// "SELECT <every column read_payment reads> FROM payments <rest>".
std::string select_payments(std::string_view rest) {
    return "SELECT id, order_id, stripe_id, amount_cents, refund_status, coalesce(refund_error, "
           "''), created_at"
           " FROM payments " +
           std::string(rest);
}

std::vector<Attempt> read_attempts(SQLite::Statement& q) {
    std::vector<Attempt> out;
    while (q.executeStep()) out.push_back(read_attempt(q));
    return out;
}

std::vector<Payment> read_payments(SQLite::Statement& q) {
    std::vector<Payment> out;
    while (q.executeStep()) out.push_back(read_payment(q));
    return out;
}

}  // namespace

std::optional<OrderReplica> PaymentStore::find_order(db::WriteTx& tx, std::string_view id) {
    auto& q = db::query(
        tx, "SELECT id, user_id, status, price_cents, version FROM orders WHERE id = ?", id);
    if (!q.executeStep()) return std::nullopt;
    return OrderReplica{.id = q.getColumn(0).getString(),
                        .user_id = q.getColumn(1).getString(),
                        .cancelled = q.getColumn(2).getString() == "cancelled",
                        .price_cents = q.getColumn(3).getInt64(),
                        .version = q.getColumn(4).getInt64()};
}

bool PaymentStore::knows_order(db::ReadLock& read, std::string_view id) {
    return db::query(read, "SELECT 1 FROM orders WHERE id = ?", id).executeStep();
}

void PaymentStore::add_order(db::WriteTx& tx, const events::OrderCreated& e) {
    db::exec(tx,
             "INSERT INTO orders (id, user_id, status, price_cents, version) VALUES (?, ?, ?, ?, ?)"
             " ON CONFLICT (id) DO NOTHING",
             e.id, e.user_id, e.status, e.ticket.price_cents, e.version);
    auto& early =
        db::query(tx, "DELETE FROM early_cancellations WHERE order_id = ? RETURNING version", e.id);
    if (early.executeStep()) {
        std::int64_t version = early.getColumn(0).getInt64();
        early.reset();  // done with the statement before the next one runs
        cancel_order(tx, e.id, version);
    }
}

void PaymentStore::cancel_order(db::WriteTx& tx, std::string_view id, std::int64_t version) {
    db::exec(tx, "UPDATE orders SET status = 'cancelled', version = ? WHERE id = ?", version, id);
}

void PaymentStore::remember_early_cancellation(db::WriteTx& tx, std::string_view id,
                                               std::int64_t version, std::int64_t now_ms) {
    db::exec(tx,
             "INSERT INTO early_cancellations (order_id, version, cancelled_at) VALUES (?, ?, ?)"
             " ON CONFLICT (order_id) DO UPDATE SET version = max(version, excluded.version)",
             id, version, now_ms);
}

std::optional<Attempt> PaymentStore::unresolved_attempt(db::WriteTx& tx,
                                                        std::string_view order_id) {
    static const std::string sql =
        select_attempts("WHERE order_id = ? AND status IN ('pending', 'unknown')");
    auto& q = db::query(tx, sql, order_id);
    if (!q.executeStep()) return std::nullopt;
    return read_attempt(q);
}

int PaymentStore::declined_attempts(db::WriteTx& tx, std::string_view order_id) {
    auto& q = db::query(
        tx, "SELECT count(*) FROM payment_attempts WHERE order_id = ? AND status = 'declined'",
        order_id);
    q.executeStep();
    return q.getColumn(0).getInt();
}

std::optional<Attempt> PaymentStore::open_attempt(db::WriteTx& tx, std::string_view order_id,
                                                  std::int64_t amount_cents, std::string_view token,
                                                  std::int64_t now_ms) {
    auto& n = db::query(
        tx, "SELECT coalesce(max(attempt), 0) + 1 FROM payment_attempts WHERE order_id = ?",
        order_id);
    n.executeStep();
    Attempt a{.order_id = std::string(order_id),
              .number = n.getColumn(0).getInt(),
              .key = "",
              .amount_cents = amount_cents,
              .token = std::string(token),
              .status = AttemptStatus::pending,
              .checks = 0,
              .created_at_ms = now_ms};
    a.key = a.order_id + "-" + std::to_string(a.number);
    try {
        db::exec(
            tx,
            "INSERT INTO payment_attempts (order_id, attempt, idempotency_key, status, created_at,"
            " amount_cents, token) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
            a.order_id, a.number, a.key, now_ms, a.amount_cents, a.token);
    } catch (const std::exception& e) {
        if (db::is_unique_violation(e)) return std::nullopt;
        throw;
    }
    return a;
}

void PaymentStore::resolve_attempt(db::WriteTx& tx, const Attempt& a, AttemptStatus status,
                                   std::string_view message, std::int64_t now_ms) {
    db::exec(
        tx,
        "UPDATE payment_attempts SET status = ?, message = ?, resolved_at = ?, next_check_at = NULL"
        " WHERE idempotency_key = ?",
        text(status), message, now_ms, a.key);
}

void PaymentStore::attempt_unknown(db::WriteTx& tx, const Attempt& a, std::string_view message,
                                   std::int64_t next_check_ms) {
    db::exec(tx,
             "UPDATE payment_attempts SET status = 'unknown', message = ?, next_check_at = ?,"
             " checks = checks + (status = 'unknown') WHERE idempotency_key = ?",
             message, next_check_ms, a.key);
}

int PaymentStore::pending_to_unknown(db::WriteTx& tx, std::int64_t now_ms) {
    return db::exec(tx,
                    "UPDATE payment_attempts SET status = 'unknown', next_check_at = ?,"
                    " message = 'the server stopped while the provider was being asked'"
                    " WHERE status = 'pending'",
                    now_ms);
}

std::vector<Attempt> PaymentStore::attempts_due(db::WriteTx& tx, std::int64_t now_ms,
                                                std::int64_t made_after_ms, int limit) {
    static const std::string sql = select_attempts(
        "INDEXED BY attempts_to_check WHERE status = 'unknown' AND next_check_at <= ? AND "
        "created_at > ?"
        " ORDER BY next_check_at LIMIT ?");
    return read_attempts(db::query(tx, sql, now_ms, made_after_ms, limit));
}

void PaymentStore::postpone_check(db::WriteTx& tx, const Attempt& a, std::int64_t next_check_ms) {
    db::exec(tx, "UPDATE payment_attempts SET next_check_at = ? WHERE idempotency_key = ?",
             next_check_ms, a.key);
}

std::vector<Attempt> PaymentStore::unknown_attempts(db::ReadLock& read) {
    static const std::string sql = select_attempts("WHERE status = 'unknown' ORDER BY created_at");
    return read_attempts(read.statement(sql));
}

std::optional<std::int64_t> PaymentStore::next_check_ms(db::ReadLock& read,
                                                        std::int64_t made_after_ms) {
    auto& q = db::query(read,
                        "SELECT min(next_check_at) FROM payment_attempts WHERE status = 'unknown' "
                        "AND created_at > ?",
                        made_after_ms);
    if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
    return q.getColumn(0).getInt64();
}

bool PaymentStore::has_payment(db::WriteTx& tx, std::string_view order_id) {
    return db::query(tx, "SELECT 1 FROM payments WHERE order_id = ?", order_id).executeStep();
}

void PaymentStore::add_payment(db::WriteTx& tx, const Payment& p) {
    db::exec(tx,
             "INSERT INTO payments (id, order_id, stripe_id, amount_cents, currency, created_at, "
             "refund_status)"
             " VALUES (?, ?, ?, ?, 'usd', ?, ?)",
             p.id, p.order_id, p.charge_id, p.amount_cents, p.created_at_ms,
             refund_text[static_cast<std::size_t>(p.refund_status)]);
}

bool PaymentStore::request_refund(db::WriteTx& tx, std::string_view order_id) {
    return db::exec(tx,
                    "UPDATE payments SET refund_status = 'pending' WHERE order_id = ? AND "
                    "refund_status = 'none'",
                    order_id) > 0;
}

std::vector<Payment> PaymentStore::pending_refunds(db::ReadLock& read) {
    static const std::string sql = select_payments("WHERE refund_status = 'pending'");
    return read_payments(read.statement(sql));
}

bool PaymentStore::refund_done(db::WriteTx& tx, std::string_view payment_id,
                               std::string_view refund_id, std::int64_t now_ms) {
    return db::exec(tx,
                    "UPDATE payments SET refund_status = 'done', refund_id = ?, refunded_at = ?, "
                    "refund_error = NULL"
                    " WHERE id = ? AND refund_status = 'pending'",
                    refund_id, now_ms, payment_id) > 0;
}

void PaymentStore::refund_refused(db::WriteTx& tx, std::string_view payment_id,
                                  std::string_view error) {
    db::exec(tx,
             "UPDATE payments SET refund_status = 'refused', refund_error = ?, refund_tries = "
             "refund_tries + 1"
             " WHERE id = ? AND refund_status = 'pending'",
             error, payment_id);
}

void PaymentStore::refund_failed_try(db::WriteTx& tx, std::string_view payment_id,
                                     std::string_view error) {
    db::exec(tx,
             "UPDATE payments SET refund_error = ?, refund_tries = refund_tries + 1 WHERE id = ?",
             error, payment_id);
}

std::vector<Payment> PaymentStore::refused_refunds(db::ReadLock& read) {
    static const std::string sql =
        select_payments("WHERE refund_status = 'refused' ORDER BY created_at");
    return read_payments(read.statement(sql));
}

bool PaymentStore::settle_refund(db::WriteTx& tx, std::string_view payment_id,
                                 std::string_view note) {
    return db::exec(tx,
                    "UPDATE payments SET refund_status = 'settled', refund_error = refund_error || "
                    "' / settled: ' || ?"
                    " WHERE id = ? AND refund_status = 'refused'",
                    note, payment_id) > 0;
}

std::optional<std::string> PaymentStore::payment_id_for(db::WriteTx& tx,
                                                        std::string_view order_id) {
    auto& q = db::query(tx, "SELECT id FROM payments WHERE order_id = ?", order_id);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getString();
}

}  // namespace ticketd::payments
