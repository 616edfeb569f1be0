#include "tickets_module.hpp"

#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bus/bus.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "search.hpp"
#include "ticket_store.hpp"
#include "ticketd/events/order_events.hpp"
#include "ticketd/events/ticket_events.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "util/money.hpp"
#include "util/text.hpp"
#include "util/time_format.hpp"

namespace ticketd::tickets {
namespace {

constexpr std::size_t max_title = 200;

boost::json::object to_json(const Ticket& t) {
    boost::json::object o{{"id", t.id},
                          {"title", t.title},
                          {"price", util::cents_to_json(t.price_cents)},
                          {"userId", t.user_id},
                          {"version", t.version},
                          {"faceValue", util::cents_to_json(t.face_value())}};
    if (t.order_id) o["orderId"] = *t.order_id;
    return o;
}

events::TicketUpdated updated_event(const Ticket& t) {
    return {.id = t.id,
            .version = t.version,
            .title = t.title,
            .price_cents = t.price_cents,
            .user_id = t.user_id,
            .order_id = t.order_id};
}

struct TicketInput {
    std::string title;
    std::int64_t price_cents = 0;
};

// A price field, as create validates it.
std::int64_t price_input(const boost::json::object& body, http::Validation& v) {
    auto price = util::parse_price(body.if_contains("price"));
    switch (price.error) {
        case util::PriceError::none: return price.cents;
        case util::PriceError::not_positive: v.fail("Price must be greater than 0", "price"); break;
        case util::PriceError::too_many_decimals:
            v.fail("Price must have at most two decimals", "price");
            break;
        case util::PriceError::too_large: v.fail("Price must be at most 1000000", "price"); break;
    }
    return 0;
}

// Body validation for create and update: every invalid field is reported at once.
TicketInput ticket_input(const http::Request& req) {
    auto body = http::json_object(req);
    http::Validation v;
    TicketInput in;
    auto* title = body.if_contains("title");
    if (title && title->is_string()) in.title = http::trim(title->get_string());
    if (in.title.empty())
        v.fail("Title is required", "title");
    else if (util::character_count(in.title) > max_title)
        v.fail("Title must be at most 200 characters", "title");
    in.price_cents = price_input(body, v);
    v.throw_if_failed();
    return in;
}

class TicketsModule final : public Module {
public:
    explicit TicketsModule(const ModuleContext& ctx)
        : db_(ctx.open_database("tickets")),
          bus_(ctx.bus),
          clock_(ctx.clock),
          resale_cap_percent_(ctx.settings<Config>().resale_cap_percent) {}

    std::string_view name() const override { return "tickets"; }
    db::Database& database() override { return *db_; }

    void add_routes(http::Router& router) override {
        router.post("/api/tickets", [this](const http::Request& req) {
            const auto& user = req.require_user();
            auto in = ticket_input(req);
            return http::json(201, to_json(create(user.id, in)));
        });
        // The listing, searched (search.hpp): a plain array, as the course's client expects, with
        // the number of matches before paging in X-Total-Count. ?owner=me: the caller's own
        // tickets instead, reserved and bought ones included, searched the same way.
        router.get("/api/tickets", [this](const http::Request& req) {
            http::Validation v;  // every invalid parameter is its own error
            auto query = parse_search(req, words_, v);
            // `seller` is this listing's older name (before tickets changed hands), kept for
            // clients.
            auto owner = req.query_param("owner");
            auto seller = req.query_param("seller");
            // Signed in is checked before the parameters (API.md's order of checks).
            const http::User* user = owner || seller ? &req.require_user() : nullptr;
            if (owner && *owner != "me") v.fail("owner must be \"me\"", "owner");
            if (seller && *seller != "me") v.fail("seller must be \"me\"", "seller");
            v.throw_if_failed();
            if (user) {
                db::ReadLock read(*db_);
                auto found = store_.search_owned(read, user->id, query);
                boost::json::array list;
                for (const auto& t : found.tickets) list.push_back(to_json(t));
                auto res = http::json(200, list);
                res.set_header("X-Total-Count", std::to_string(found.total));
                return res;
            }
            db::ReadLock read(*db_);
            auto key = query.key();
            const TicketStore::Page* page = store_.cached_page(read, key);
            if (!page) {
                auto found = store_.search(read, query);
                boost::json::array list;
                for (const auto& t : found.tickets) list.push_back(to_json(t));
                page = &store_.remember_page(
                    read, key,
                    {.body = http::to_json_text(list), .total = found.total, .query = query});
            }
            auto res = http::text_response(200, page->body, "application/json; charset=utf-8");
            res.set_header("X-Total-Count", std::to_string(page->total));
            return res;
        });
        router.get("/api/tickets/:id", [this](const http::Request& req) {
            std::string id(req.param("id"));
            db::ReadLock read(*db_);
            const std::string* body = store_.cached_body(read, id);
            if (!body) {
                auto t = store_.find(read, id);
                if (!t) throw http::ApiError::not_found();
                body = &store_.remember_body(read, id, http::to_json_text(to_json(*t)));
            }
            return http::text_response(200, *body, "application/json; charset=utf-8");
        });
        // The public history, oldest first: no user ids.
        router.get("/api/tickets/:id/history", [this](const http::Request& req) {
            std::string id(req.param("id"));
            db::ReadLock read(*db_);
            if (!store_.find(read, id)) throw http::ApiError::not_found();
            boost::json::array out;
            for (const auto& h : store_.history(read, id))
                out.push_back({{"at", util::format_rfc3339_ms(util::from_unix_ms(h.at_ms))},
                               {"event", h.event},
                               {"price", util::cents_to_json(h.price_cents)}});
            return http::json(200, out);
        });
        router.put("/api/tickets/:id", [this](const http::Request& req) {
            const auto& user = req.require_user();
            auto in = ticket_input(req);
            return http::json(200, to_json(update(user.id, std::string(req.param("id")), in)));
        });
        router.post("/api/tickets/:id/resale", [this](const http::Request& req) {
            const auto& user = req.require_user();
            auto body = http::json_object(req);
            return http::json(200, to_json(relist(user.id, std::string(req.param("id")), body)));
        });
    }

    void add_listeners(bus::Bus& bus) override {
        bus.publishes<events::TicketCreated>("tickets");
        bus.publishes<events::TicketUpdated>("tickets");
        bus.subscribe<events::OrderCreated>("tickets.order-created", *db_,
                                            [this](db::WriteTx& tx, const events::OrderCreated& e) {
                                                return on_order_created(tx, e);
                                            });
        bus.subscribe<events::OrderCancelled>(
            "tickets.order-cancelled", *db_,
            [this](db::WriteTx& tx, const events::OrderCancelled& e) {
                return on_order_cancelled(tx, e);
            });
        bus.subscribe<events::OrderCompleted>(
            "tickets.order-completed", *db_,
            [this](db::WriteTx& tx, const events::OrderCompleted& e, const bus::Envelope& env) {
                return on_order_completed(tx, e, env);
            });
    }

private:
    std::int64_t now_ms() const { return util::to_unix_ms(clock_.now()); }

    Ticket create(const std::string& user_id, const TicketInput& in) {
        Ticket t{.id = util::random_id(),
                 .title = in.title,
                 .price_cents = in.price_cents,
                 .user_id = user_id,
                 .version = 0,
                 .order_id = std::nullopt,
                 .face_value_cents = std::nullopt};
        db::WriteTx tx(*db_);
        store_.insert(tx, t, now_ms());
        store_.add_history(tx, t.id, now_ms(), "listed", t.price_cents);
        bus_.publish(tx, events::TicketCreated{.id = t.id,
                                               .version = t.version,
                                               .title = t.title,
                                               .price_cents = t.price_cents,
                                               .user_id = t.user_id});
        tx.commit();
        return t;
    }

    // Checks in the API's order: exists (404), owner (401), not reserved (400).
    Ticket update(const std::string& user_id, const std::string& id, const TicketInput& in) {
        db::WriteTx tx(*db_);
        auto t = store_.find(tx, id);
        if (!t) throw http::ApiError::not_found();
        if (t->user_id != user_id) throw http::ApiError::unauthorized();
        if (t->order_id) throw http::ApiError::bad_request("Cannot edit a reserved ticket");
        check_resale_cap(*t, in.price_cents);
        if (in.price_cents != t->price_cents)
            store_.add_history(tx, t->id, now_ms(), "price-changed", in.price_cents);
        t->title = in.title;
        t->price_cents = in.price_cents;
        t->version += 1;
        store_.update(tx, *t, now_ms());
        bus_.publish(tx, updated_event(*t));
        tx.commit();
        return *t;
    }

    // A ticket sold once is sold again for at most its face value times the cap (0: no cap).
    void check_resale_cap(const Ticket& t, std::int64_t price_cents) const {
        if (!t.face_value_cents || resale_cap_percent_ == 0) return;
        if (price_cents > *t.face_value_cents * resale_cap_percent_ / 100) {
            http::Validation v;
            v.fail("Price must be at most the face value", "price");
            v.throw_if_failed();
        }
    }

    // POST /api/tickets/:id/resale, checks in the API's order: the price as create checks it
    // (400), exists (404), owner (401), held by its sale (400), then the cap. Listed again: no
    // order, the new price, a 'relisted' entry, and a ticket:updated (orders then lets it be
    // bought again).
    Ticket relist(const std::string& user_id, const std::string& id,
                  const boost::json::object& body) {
        http::Validation v;
        auto price_cents = price_input(body, v);
        v.throw_if_failed();
        db::WriteTx tx(*db_);
        auto t = store_.find(tx, id);
        if (!t) throw http::ApiError::not_found();
        if (t->user_id != user_id) throw http::ApiError::unauthorized();
        if (!t->held_by_sale()) throw http::ApiError::bad_request("Ticket is not sold");
        check_resale_cap(*t, price_cents);
        t->order_id.reset();
        t->order_price_cents.reset();
        t->price_cents = price_cents;
        t->version += 1;
        store_.update(tx, *t, now_ms());
        store_.add_history(tx, t->id, now_ms(), "relisted", price_cents);
        bus_.publish(tx, updated_event(*t));
        tx.commit();
        return *t;
    }

    // A reservation. Seen while an earlier order still holds the ticket, its cancellation has
    // not reached us yet (each subject has its own subscription): orders, which owns
    // reservations, placed this one, so that cancellation is on its way, and this reservation
    // waits for it here (schema/tickets/008) rather than being retried until it is parked.
    bus::Outcome on_order_created(db::WriteTx& tx, const events::OrderCreated& e) {
        auto t = store_.find(tx, e.ticket.id);
        if (!t) return bus::Outcome::retry;  // the ticket's own creation is not visible yet
        if (t->order_id == e.id) return bus::Outcome::ack;  // already applied
        // Over before we saw it: cancelled, or completed (its sale was applied first, and the
        // ticket may have been relisted since).
        if (store_.is_released(tx, e.id)) return bus::Outcome::ack;
        if (t->held_by_sale()) {
            // Orders places an order for a sold ticket only after its owner relisted it, and
            // tickets relists it itself first: this order ended before the sale.
            log::warn("reservation of a sold ticket ignored (its order ended before the sale)",
                      {{"ticket_id", t->id}, {"order_id", e.id}});
            return bus::Outcome::ack;
        }
        if (t->order_id) {
            store_.add_waiting(tx, t->id, {.order_id = e.id, .price_cents = e.ticket.price_cents},
                               now_ms());
            return bus::Outcome::ack;
        }
        reserve(tx, *t, e.id, e.ticket.price_cents);
        return bus::Outcome::ack;
    }

    bus::Outcome on_order_cancelled(db::WriteTx& tx, const events::OrderCancelled& e) {
        store_.mark_released(tx, e.id);
        store_.take_waiting(tx, e.id);  // it waited for nothing
        auto t = store_.find(tx, e.ticket.id);
        if (!t) return bus::Outcome::retry;
        if (t->order_id != e.id) return bus::Outcome::ack;  // not held by this order (any more)
        // Free, unless a later reservation was waiting for this cancellation: it takes the ticket
        // in the same change, so the ticket is never shown listed in between.
        if (auto next = store_.take_next_waiting(tx, t->id)) {
            reserve(tx, *t, next->order_id, next->price_cents);
            return bus::Outcome::ack;
        }
        t->order_id.reset();
        t->order_price_cents.reset();
        t->version += 1;
        store_.update(tx, *t, now_ms());
        bus_.publish(tx, updated_event(*t));
        return bus::Outcome::ack;
    }

    void reserve(db::WriteTx& tx, Ticket& t, const std::string& order_id,
                 std::int64_t price_cents) {
        t.order_id = order_id;
        t.order_price_cents = price_cents;
        t.version += 1;
        store_.update(tx, t, now_ms());
        bus_.publish(tx, updated_event(t));
    }

    // The sale is final: the ticket passes to its buyer and stays held by the completed order
    // (not listed, not editable) until its owner relists it. Its face value is fixed at the
    // price paid, the first time. Its order:created comes first in the log; until that is
    // applied here, wait, except on the last try (it was parked): this event alone says which
    // order holds the ticket. A reservation waiting for an earlier order's cancellation takes
    // the ticket at once: its sale proves the earlier order is over.
    bus::Outcome on_order_completed(db::WriteTx& tx, const events::OrderCompleted& e,
                                    const bus::Envelope& env) {
        auto t = store_.find(tx, e.ticket.id);
        if (!t) return bus::Outcome::retry;
        auto waited = t->order_id == e.id ? std::nullopt : store_.take_waiting(tx, e.id);
        if (t->order_id != e.id && !waited && !env.last_attempt) return bus::Outcome::retry;
        store_.mark_released(tx, e.id);  // its own order:created, if late, reserves nothing
        // What the buyer paid: the price their order was placed at. Only a parked sale whose
        // order:created never arrived lacks it; then the price is the best record there is.
        std::int64_t paid = waited                                        ? waited->price_cents
                            : t->order_id == e.id && t->order_price_cents ? *t->order_price_cents
                                                                          : t->price_cents;
        t->order_id = e.id;
        t->order_price_cents = paid;
        t->sold_order_id = e.id;
        t->user_id = e.user_id;
        if (!t->face_value_cents) t->face_value_cents = paid;
        t->version += 1;
        store_.update(tx, *t, now_ms());
        store_.record_sale(tx, t->id, e.user_id, now_ms());
        store_.add_history(tx, t->id, now_ms(), "sold", paid);
        bus_.publish(tx, updated_event(*t));
        return bus::Outcome::ack;
    }

    std::unique_ptr<db::Database> db_;
    bus::Bus& bus_;
    const util::Clock& clock_;
    std::int64_t resale_cap_percent_;
    // Made while the database is locked: it runs a statement on the connection.
    WordSplitter words_{[this] {
        db::ReadLock read(*db_);
        return WordSplitter(read.connection().getHandle());
    }()};
    TicketStore store_{words_};
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    return std::make_unique<TicketsModule>(ctx);
}

}  // namespace ticketd::tickets
