#include "orders_module.hpp"

#include <stdexcept>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bus/bus.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "order_store.hpp"
#include "ticketd/events/expiration_events.hpp"
#include "ticketd/events/order_events.hpp"
#include "ticketd/events/payment_events.hpp"
#include "ticketd/events/ticket_events.hpp"
#include "util/arrival_waiters.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "util/money.hpp"
#include "util/time_format.hpp"

namespace ticketd::orders {
namespace {

boost::json::object to_json(const Order& o) {
    return {{"id", o.id},
            {"userId", o.user_id},
            {"status", to_text(o.status)},
            {"expiresAt", util::format_rfc3339_ms(util::from_unix_ms(o.expires_at_ms))},
            {"ticket", boost::json::object{{"id", o.ticket_id},
                                           {"title", o.ticket_title},
                                           {"price", util::cents_to_json(o.price_cents)},
                                           {"version", o.ticket_version}}},
            {"version", o.version}};
}

boost::json::object place_json(const std::string& ticket_id, const Place& p) {
    boost::json::object o{{"ticketId", ticket_id}, {"length", p.length}};
    if (p.position)
        o["position"] = *p.position;
    else
        o["position"] = nullptr;
    return o;
}

class OrdersModule final : public Module {
public:
    explicit OrdersModule(const ModuleContext& ctx)
        : db_(ctx.open_database("orders")),
          bus_(ctx.bus),
          clock_(ctx.clock),
          window_(std::chrono::seconds(ctx.settings<Config>().reservation_window_seconds)),
          // An order for a ticket this module has not heard of yet waits (--order-wait, 1 s by
          // default) for its ticket:created before the answer is 404: a ticket can be ordered
          // the moment POST /api/tickets has answered.
          ticket_wait_(ctx.settings<Config>().order_wait_ms),
          arrivals_(ctx.make_timer(), ctx.post, ctx.clock, ticket_wait_) {}

    std::string_view name() const override { return "orders"; }
    db::Database& database() override { return *db_; }

    void add_routes(http::Router& router) override {
        router.add_async(
            "POST", "/api/orders", [this](const http::Request& req, http::Reply reply) {
                const auto& user = req.require_user();
                auto body = http::json_object(req);
                auto ticket_id =
                    http::required_string(body, "ticketId", "TicketId must be provided");
                order_once_known(user.id, ticket_id, std::move(reply), ticket_wait_.count() > 0);
            });
        router.get("/api/orders", [this](const http::Request& req) {
            const auto& user = req.require_user();
            boost::json::array list;
            db::ReadLock read(*db_);
            for (const auto& o : store_.list_for_user(read, user.id)) list.push_back(to_json(o));
            return http::json(200, list);
        });
        router.get("/api/orders/:id", [this](const http::Request& req) {
            const auto& user = req.require_user();
            db::ReadLock read(*db_);
            auto order = store_.find(read, std::string(req.param("id")));
            if (!order) throw http::ApiError::not_found();
            if (order->user_id != user.id) throw http::ApiError::unauthorized();
            return http::json(200, to_json(*order));
        });
        router.del("/api/orders/:id", [this](const http::Request& req) {
            const auto& user = req.require_user();
            cancel_by_buyer(user.id, std::string(req.param("id")));
            return http::no_content();
        });
        // The waiting list of a reserved ticket (API.md, "Waiting list"). Under /api/tickets, but
        // orders owns it: it lives beside the reservations it hands the ticket over between.
        router.post("/api/tickets/:id/waitlist", [this](const http::Request& req) {
            const auto& user = req.require_user();
            std::string ticket_id(req.param("id"));
            auto [place, joined] = join_line(user.id, ticket_id);
            return http::json(joined ? 201 : 200, place_json(ticket_id, place));
        });
        router.get("/api/tickets/:id/waitlist", [this](const http::Request& req) {
            const auto& user = req.require_user();
            std::string ticket_id(req.param("id"));
            db::ReadLock read(*db_);
            if (!store_.find_ticket(read, ticket_id)) throw http::ApiError::not_found();
            return http::json(200, place_json(ticket_id, store_.place(read, ticket_id, user.id)));
        });
        router.del("/api/tickets/:id/waitlist", [this](const http::Request& req) {
            const auto& user = req.require_user();
            std::string ticket_id(req.param("id"));
            db::WriteTx tx(*db_);
            if (!store_.find_ticket(tx, ticket_id)) throw http::ApiError::not_found();
            store_.leave(tx, ticket_id, user.id);
            tx.commit();
            return http::no_content();
        });
    }

    void add_listeners(bus::Bus& bus) override {
        bus.publishes<events::OrderCreated>("orders");
        bus.publishes<events::OrderCancelled>("orders");
        bus.publishes<events::OrderCompleted>("orders");
        bus.subscribe<events::TicketCreated>(
            "orders.ticket-created", *db_, [this](db::WriteTx& tx, const events::TicketCreated& e) {
                return on_ticket_created(tx, e);
            });
        bus.subscribe<events::TicketUpdated>(
            "orders.ticket-updated", *db_,
            [this](db::WriteTx& tx, const events::TicketUpdated& e, const bus::Envelope& env) {
                return on_ticket_updated(tx, e, env);
            });
        bus.subscribe<events::ExpirationComplete>(
            "orders.expiration-complete", *db_,
            [this](db::WriteTx& tx, const events::ExpirationComplete& e) {
                return on_expiration_complete(tx, e);
            });
        bus.subscribe<events::PaymentCreated>(
            "orders.payment-created", *db_,
            [this](db::WriteTx& tx, const events::PaymentCreated& e) {
                return on_payment_created(tx, e);
            });
        bus.subscribe<events::PaymentRefunded>(
            "orders.payment-refunded", *db_,
            [this](db::WriteTx& tx, const events::PaymentRefunded& e) {
                return on_payment_refunded(tx, e);
            });
    }

    void stop() override { arrivals_.cancel_all(); }

private:
    std::int64_t now_ms() const { return util::to_unix_ms(clock_.now()); }

    bool knows_ticket(const std::string& ticket_id) {
        db::ReadLock read(*db_);
        return store_.find_ticket(read, ticket_id).has_value();
    }

    // Answers `reply` with the new order; for a ticket not heard of yet, after waiting for it if
    // `may_wait` (it may have been listed a moment ago), else with 404.
    void order_once_known(const std::string& user_id, const std::string& ticket_id,
                          http::Reply reply, bool may_wait) {
        if (auto order = place_order(user_id, ticket_id))
            return reply(http::json(201, to_json(*order)));
        if (!may_wait) throw http::ApiError::not_found();
        auto again = [this, user_id, ticket_id, reply](bool) {
            try {
                order_once_known(user_id, ticket_id, reply, false);
            } catch (...) {
                reply.fail(std::current_exception());
            }
        };
        if (arrivals_.present_or_wait(
                ticket_id, [&] { return knows_ticket(ticket_id); }, again))
            order_once_known(user_id, ticket_id, std::move(reply), false);
    }

    // The order and its event commit together or not at all. Nothing, and nothing written, when
    // this module does not know the ticket.
    std::optional<Order> place_order(const std::string& user_id, const std::string& ticket_id) {
        {
            // A stampede on one ticket is refused here, with a read: no write lock to queue for,
            // no failed insert to roll back. The unique index below still decides the races.
            db::ReadLock read(*db_);
            if (store_.has_active_order(read, ticket_id))
                throw http::ApiError::bad_request("Ticket is already reserved");
        }
        db::WriteTx tx(*db_);  // BEGIN IMMEDIATE: concurrent buyers queue here
        auto ticket = store_.find_ticket(tx, ticket_id);
        if (!ticket) return std::nullopt;
        // The unique index refuses a second order beside the one holding the ticket; while anyone
        // waits, one always holds it, but say it here too: the line goes first.
        if (store_.waiting(tx, ticket_id) > 0)
            throw http::ApiError::bad_request("Ticket is already reserved");
        auto order = open_order(tx, user_id, *ticket);
        if (!order) throw http::ApiError::bad_request("Ticket is already reserved");
        tx.commit();
        return order;
    }

    // A new order for `ticket`, at its current price, with a full reservation window, and its
    // order:created, in `tx`; none when an order already holds the ticket (the partial unique
    // index refused it).
    std::optional<Order> open_order(db::WriteTx& tx, const std::string& user_id,
                                    const TicketReplica& ticket) {
        auto now = clock_.now();
        Order order{.id = util::random_id(),
                    .user_id = user_id,
                    .status = OrderStatus::created,
                    .expires_at_ms = util::to_unix_ms(now + window_),
                    .ticket_id = ticket.id,
                    .ticket_title = ticket.title,
                    .price_cents = ticket.price_cents,
                    .ticket_version = ticket.version,
                    .version = 0};
        if (!store_.insert(tx, order, util::to_unix_ms(now))) return std::nullopt;
        bus_.publish(
            tx, events::OrderCreated{
                    .id = order.id,
                    .version = order.version,
                    .status = std::string(to_text(order.status)),
                    .user_id = order.user_id,
                    .expires_at = util::format_rfc3339_ms(util::from_unix_ms(order.expires_at_ms)),
                    .ticket = {.id = order.ticket_id, .price_cents = order.price_cents}});
        return order;
    }

    // Checks in the API's order: the ticket is known (404), not the caller's own (400), then a
    // place already taken is answered as it is (200); a ticket no order holds, or a sold one, has
    // no line (400), nor does the caller's own reservation. Joins and handovers take the write
    // lock in turn, so a place is given in the order the joins commit.
    std::pair<Place, bool> join_line(const std::string& user_id, const std::string& ticket_id) {
        db::WriteTx tx(*db_);
        auto ticket = store_.find_ticket(tx, ticket_id);
        if (!ticket) throw http::ApiError::not_found();
        if (ticket->user_id == user_id) throw http::ApiError::bad_request("You own this ticket");
        auto place = store_.place(tx, ticket_id, user_id);
        if (place.position) return {place, false};
        auto holder = store_.active_order(tx, ticket_id);
        if (!holder || holder->status == OrderStatus::complete)
            throw http::ApiError::bad_request("Ticket is not reserved");
        if (holder->user_id == user_id)
            throw http::ApiError::bad_request("You already hold this ticket");
        store_.join(tx, ticket_id, user_id, now_ms());
        place = store_.place(tx, ticket_id, user_id);
        tx.commit();
        return {place, true};
    }

    void cancel_by_buyer(const std::string& user_id, const std::string& order_id) {
        db::WriteTx tx(*db_);
        auto order = store_.find(tx, order_id);
        if (!order) throw http::ApiError::not_found();
        if (order->user_id != user_id) throw http::ApiError::unauthorized();
        if (order->status == OrderStatus::complete)
            throw http::ApiError::bad_request("Cannot cancel a complete order");
        if (order->status == OrderStatus::cancelled) return;  // already cancelled: nothing changes
        cancel(tx, *order);
        tx.commit();
    }

    void cancel(db::WriteTx& tx, Order& order) {
        order.status = OrderStatus::cancelled;
        order.version += 1;
        store_.update(tx, order, now_ms());
        bus_.publish(
            tx, events::OrderCancelled{
                    .id = order.id, .version = order.version, .ticket = {.id = order.ticket_id}});
        hand_over(tx, order.ticket_id);
    }

    // The reservation of `ticket_id` has just ended in `tx`: the first in line gets the next order
    // in the same transaction, so no direct buyer can slip in between and no two orders hold the
    // ticket. Nobody in line: the ticket is listed again, as before.
    void hand_over(db::WriteTx& tx, const std::string& ticket_id) {
        auto next = store_.pop_first(tx, ticket_id);
        if (!next) return;
        auto ticket = store_.find_ticket(tx, ticket_id);
        auto order = ticket ? open_order(tx, *next, *ticket) : std::nullopt;
        // Only a ticket orders knows, and whose order just ended, can have a line.
        if (!order)
            throw std::logic_error("the waiting list's handover found its ticket held: " +
                                   ticket_id);
        log::info("waiting list handed the ticket over",
                  {{"ticket_id", ticket_id}, {"order_id", order->id}});
    }

    bus::Outcome on_ticket_created(db::WriteTx& tx, const events::TicketCreated& e) {
        if (store_.find_ticket(tx, e.id)) return bus::Outcome::ack;  // duplicate
        store_.insert_ticket(tx, {.id = e.id,
                                  .title = e.title,
                                  .price_cents = e.price_cents,
                                  .user_id = e.user_id,
                                  .version = e.version,
                                  .order_id = std::nullopt});
        tx.on_commit([this, id = e.id] { arrivals_.arrived(id); });
        return bus::Outcome::ack;
    }

    // The version rule: apply only the next version; older is a duplicate, newer means a gap,
    // and a gap is waited out (the missing version, or the ticket:created, is on its way). But
    // on the last try the missing ones are not coming (the log is in order, so they were
    // parked): the event carries the ticket's whole state, so it is applied rather than parked
    // behind them. One dead letter then holds back nothing after it.
    bus::Outcome on_ticket_updated(db::WriteTx& tx, const events::TicketUpdated& e,
                                   const bus::Envelope& env) {
        auto stored = store_.find_ticket(tx, e.id);
        TicketReplica replica{.id = e.id,
                              .title = e.title,
                              .price_cents = e.price_cents,
                              .user_id = e.user_id,
                              .version = e.version,
                              .order_id = e.order_id};
        if (!stored || e.version > stored->version + 1) {
            if (!env.last_attempt) return bus::Outcome::retry;
            if (stored) release_if_relisted(tx, *stored, replica);
            log::warn("ticket update applied over a gap (an earlier event was parked)",
                      {{"ticket_id", e.id},
                       {"version", std::to_string(e.version)},
                       {"had", stored ? std::to_string(stored->version) : std::string("none")}});
            if (stored)
                store_.update_ticket(tx, replica);
            else
                store_.insert_ticket(tx, replica);
            return bus::Outcome::ack;
        }
        if (e.version <= stored->version) return bus::Outcome::ack;
        release_if_relisted(tx, *stored, replica);
        store_.update_ticket(tx, replica);
        return bus::Outcome::ack;
    }

    // A ticket held by a complete order that comes back with no order was relisted by its owner:
    // that order no longer holds it, and it can be bought (and waited for) again. Only the order
    // this replica last saw holding the ticket: a change from before tickets saw a reservation
    // (a price edit) also has no order, and must not release an order it never knew of.
    void release_if_relisted(db::WriteTx& tx, const TicketReplica& before,
                             const TicketReplica& after) {
        if (!before.order_id || after.order_id) return;
        auto order = store_.find(tx, *before.order_id);
        if (!order || order->status != OrderStatus::complete || order->released) return;
        order->released = true;
        store_.update(tx, *order, now_ms());
    }

    bus::Outcome on_expiration_complete(db::WriteTx& tx, const events::ExpirationComplete& e) {
        auto order = store_.find(tx, e.order_id);
        if (!order) return bus::Outcome::retry;
        // A paid order is never cancelled by expiry; a cancelled one stays as it is.
        if (order->status == OrderStatus::complete || order->status == OrderStatus::cancelled)
            return bus::Outcome::ack;
        cancel(tx, *order);
        log::info("order expired", {{"order_id", order->id}});
        return bus::Outcome::ack;
    }

    bus::Outcome on_payment_created(db::WriteTx& tx, const events::PaymentCreated& e) {
        auto order = store_.find(tx, e.order_id);
        if (!order) return bus::Outcome::retry;
        if (order->payment_id == e.id) return bus::Outcome::ack;
        order->payment_id = e.id;
        order->stripe_id = e.stripe_id;
        if (order->status == OrderStatus::cancelled) {
            // Paid after it was cancelled: payments refunds it when it learns of the cancellation.
            log::warn("payment for a cancelled order",
                      {{"order_id", order->id}, {"payment_id", e.id}});
            store_.update(tx, *order, now_ms());
            return bus::Outcome::ack;
        }
        order->status = OrderStatus::complete;
        order->version += 1;
        store_.update(tx, *order, now_ms());
        store_.clear_line(tx, order->ticket_id);  // sold: nothing left to wait for
        bus_.publish(tx, events::OrderCompleted{.id = order->id,
                                                .version = order->version,
                                                .user_id = order->user_id,
                                                .ticket = {.id = order->ticket_id}});
        return bus::Outcome::ack;
    }

    bus::Outcome on_payment_refunded(db::WriteTx& tx, const events::PaymentRefunded& e) {
        auto order = store_.find(tx, e.order_id);
        if (!order) return bus::Outcome::retry;
        order->refund_id = e.refund_id;
        store_.update(tx, *order, now_ms());
        return bus::Outcome::ack;
    }

    std::unique_ptr<db::Database> db_;
    bus::Bus& bus_;
    const util::Clock& clock_;
    std::chrono::seconds window_;
    std::chrono::milliseconds ticket_wait_;
    util::ArrivalWaiters arrivals_;  // orders waiting for their ticket:created
    OrderStore store_;
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    return std::make_unique<OrdersModule>(ctx);
}

}  // namespace ticketd::orders
