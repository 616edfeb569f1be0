#pragma once
// All SQL on orders.db: the orders and the replica of tickets.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_orders)
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

namespace ticketd::orders {

// The orders module's copy of a ticket, fed by ticket events.
struct TicketReplica {
    std::string id;
    std::string title;
    std::int64_t price_cents = 0;
    std::string user_id;
    std::int64_t version = 0;
    std::optional<std::string> order_id;
};

// Written as text ("created", "cancelled", "awaiting:payment", "complete") in the database and
// the API; mapped in this store only.
enum class OrderStatus {
    created,
    cancelled,
    // Part of the course's contract, and accepted by the schema, but never set by ticketd: a
    // payment is charged in the request that asks for it, so an order goes from created to
    // complete at once.
    awaiting_payment,
    complete,
};
std::string_view to_text(OrderStatus status);

struct Order {
    std::string id;
    std::string user_id;
    OrderStatus status = OrderStatus::created;
    std::int64_t expires_at_ms = 0;
    std::string ticket_id;
    std::string ticket_title;      // as the buyer saw it
    std::int64_t price_cents = 0;  // what payment charges
    std::int64_t ticket_version = 0;
    std::int64_t version = 0;
    std::optional<std::string> payment_id = std::nullopt, stripe_id = std::nullopt,
                               refund_id = std::nullopt;
    // A complete order whose ticket its buyer relisted: it no longer holds the ticket.
    bool released = false;

    // Holds its ticket: created, awaiting payment, or complete and not relisted.
    bool active() const { return status != OrderStatus::cancelled && !released; }
};

// A user's place in a ticket's waiting list.
struct Place {
    std::optional<std::int64_t> position;  // 1-based; none when not in line
    std::int64_t length = 0;
};

class OrderStore {
public:
    std::optional<TicketReplica> find_ticket(db::WriteTx& tx, const std::string& id);
    std::optional<TicketReplica> find_ticket(db::ReadLock& read, const std::string& id);
    // True if the ticket has an order that holds it (created, awaiting payment, or complete and
    // not relisted).
    bool has_active_order(db::ReadLock& read, const std::string& ticket_id);
    // The order that holds the ticket, if any.
    std::optional<Order> active_order(db::WriteTx& tx, const std::string& ticket_id);
    void insert_ticket(db::WriteTx& tx, const TicketReplica& t);
    void update_ticket(db::WriteTx& tx, const TicketReplica& t);

    std::optional<Order> find(db::WriteTx& tx, const std::string& id);
    std::optional<Order> find(db::ReadLock& read, const std::string& id);
    std::vector<Order> list_for_user(db::ReadLock& read, const std::string& user_id);
    // Inserts the order; false when the ticket already has an active order (the partial unique
    // index refused it).
    bool insert(db::WriteTx& tx, const Order& order, std::int64_t now_ms);
    // Writes status, version, payment fields and `released` of `order`.
    void update(db::WriteTx& tx, const Order& order, std::int64_t now_ms);

    // The waiting list of a ticket.
    Place place(db::ReadLock& read, const std::string& ticket_id, const std::string& user_id);
    Place place(db::WriteTx& tx, const std::string& ticket_id, const std::string& user_id);
    std::int64_t waiting(db::WriteTx& tx, const std::string& ticket_id);
    // Puts the user at the end of the line; false when already in it.
    bool join(db::WriteTx& tx, const std::string& ticket_id, const std::string& user_id,
              std::int64_t now_ms);
    void leave(db::WriteTx& tx, const std::string& ticket_id, const std::string& user_id);
    // Takes the first in line out of it: their user id, or none when nobody waits.
    std::optional<std::string> pop_first(db::WriteTx& tx, const std::string& ticket_id);
    void clear_line(db::WriteTx& tx, const std::string& ticket_id);
};

}  // namespace ticketd::orders
