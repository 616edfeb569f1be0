#pragma once
// All SQL on payments.db (module-private). Reads take a ReadLock or a WriteTx, writes a WriteTx;
// one thread at a time, as the database's locks ensure.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_payments)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::db {
class ReadLock;
class WriteTx;
}  // namespace ticketd::db
namespace ticketd::events {
struct OrderCreated;
}

namespace ticketd::payments {

// The orders module's order, as payments knows it from order events.
struct OrderReplica {
    std::string id;
    std::string user_id;
    bool cancelled = false;
    std::int64_t price_cents = 0;
    std::int64_t version = 0;
};

enum class AttemptStatus {
    pending,    // the provider is being asked, by this process
    unknown,    // asked, and no trustworthy answer came (or the process died meanwhile)
    succeeded,  // charged: the payment row exists
    declined,   // the card was declined
    failed      // the provider refused the request for good: nothing was charged
};

// One try to charge an order, recorded (and on disk) before the provider is asked.
struct Attempt {
    std::string order_id;
    int number = 0;
    std::string key;  // the idempotency key: "<order id>-<number>"
    std::int64_t amount_cents = 0;
    std::string token;
    AttemptStatus status = AttemptStatus::pending;
    int checks = 0;  // how often the provider was asked again
    std::int64_t created_at_ms = 0;
};

enum class RefundStatus {
    none,     // the money is kept: the order completed
    pending,  // to be refunded (asked until the provider answers)
    done,
    refused,  // the provider refused for good; a person settles it (`ticketd payments`)
    settled   // settled by a person
};

struct Payment {
    std::string id;
    std::string order_id;
    std::string charge_id;
    std::int64_t amount_cents = 0;
    RefundStatus refund_status = RefundStatus::none;
    std::string refund_error;
    std::int64_t created_at_ms = 0;
};

class PaymentStore {
public:
    // Orders, fed by order events (version rule in the module).
    std::optional<OrderReplica> find_order(db::WriteTx& tx, std::string_view id);
    bool knows_order(db::ReadLock& read, std::string_view id);
    void add_order(db::WriteTx& tx, const events::OrderCreated& e);  // a redelivery changes nothing
    void cancel_order(db::WriteTx& tx, std::string_view id, std::int64_t version);
    // An order:cancelled for an order not yet known: add_order then stores it as cancelled.
    void remember_early_cancellation(db::WriteTx& tx, std::string_view id, std::int64_t version,
                                     std::int64_t now_ms);

    // Attempts.
    std::optional<Attempt> unresolved_attempt(db::WriteTx& tx, std::string_view order_id);
    int declined_attempts(db::WriteTx& tx, std::string_view order_id);
    // Records the next attempt for the order as pending; nullopt when another one is unresolved
    // (the partial unique index refused it).
    std::optional<Attempt> open_attempt(db::WriteTx& tx, std::string_view order_id,
                                        std::int64_t amount_cents, std::string_view token,
                                        std::int64_t now_ms);
    void resolve_attempt(db::WriteTx& tx, const Attempt& a, AttemptStatus status,
                         std::string_view message, std::int64_t now_ms);
    // Still unknown after asking: the reconciler asks again at `next_check_ms`.
    void attempt_unknown(db::WriteTx& tx, const Attempt& a, std::string_view message,
                         std::int64_t next_check_ms);
    // At start-up: attempts a dead process left pending are unknown, to be asked again now.
    int pending_to_unknown(db::WriteTx& tx, std::int64_t now_ms);
    // Unknown attempts due for a check at `now_ms`, made after `made_after_ms` (older ones are
    // left to a person).
    std::vector<Attempt> attempts_due(db::WriteTx& tx, std::int64_t now_ms,
                                      std::int64_t made_after_ms, int limit);
    void postpone_check(db::WriteTx& tx, const Attempt& a, std::int64_t next_check_ms);
    std::vector<Attempt> unknown_attempts(db::ReadLock& read);
    std::optional<std::int64_t> next_check_ms(db::ReadLock& read, std::int64_t made_after_ms);

    // Payments and refunds.
    bool has_payment(db::WriteTx& tx, std::string_view order_id);
    void add_payment(db::WriteTx& tx, const Payment& p);
    // The order's payment, if any, is to be refunded; true if that changed something.
    bool request_refund(db::WriteTx& tx, std::string_view order_id);
    std::vector<Payment> pending_refunds(db::ReadLock& read);
    bool refund_done(db::WriteTx& tx, std::string_view payment_id, std::string_view refund_id,
                     std::int64_t now_ms);
    void refund_refused(db::WriteTx& tx, std::string_view payment_id, std::string_view error);
    void refund_failed_try(db::WriteTx& tx, std::string_view payment_id, std::string_view error);
    std::vector<Payment> refused_refunds(db::ReadLock& read);
    // A person settled a refused refund; false if `payment_id` is not one.
    bool settle_refund(db::WriteTx& tx, std::string_view payment_id, std::string_view note);
    std::optional<std::string> payment_id_for(db::WriteTx& tx, std::string_view order_id);
};

}  // namespace ticketd::payments
