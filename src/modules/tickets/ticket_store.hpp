#pragma once
// All SQL on tickets.db. Methods taking a WriteTx& run inside that transaction.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_tickets)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "search.hpp"

namespace ticketd::db {
class Database;
class ReadLock;
class WriteTx;
}  // namespace ticketd::db

namespace ticketd::tickets {

struct Ticket {
    std::string id;
    std::string title;
    std::int64_t price_cents = 0;
    std::string user_id;  // the owner: the seller until the first sale, then its buyer
    std::int64_t version = 0;
    std::optional<std::string> order_id;  // set while reserved, and for good once sold
    // The price the first buyer paid, for good; none before the first sale (then the face value
    // is the price).
    std::optional<std::int64_t> face_value_cents = std::nullopt;
    // The completed order that sold it last; none before the first sale.
    std::optional<std::string> sold_order_id = std::nullopt;
    // The price the order in `order_id` was placed at (what its buyer pays); none while no order
    // holds it. A sale fixes the face value at this price, not at a price edited meanwhile.
    std::optional<std::int64_t> order_price_cents = std::nullopt;

    std::int64_t face_value() const { return face_value_cents.value_or(price_cents); }
    // Bought and not relisted: held by the order that sold it (only then can it be resold).
    bool held_by_sale() const { return order_id && order_id == sold_order_id; }
};

// One entry of a ticket's public history.
struct HistoryEntry {
    std::int64_t at_ms = 0;
    std::string event;  // "listed", "price-changed", "sold", "relisted"
    std::int64_t price_cents = 0;
};

struct SearchResult {
    std::vector<Ticket> tickets;  // the page asked for
    std::int64_t total = 0;       // every match, before paging
};

class TicketStore {
public:
    // `words` splits titles as the search splits queries (the page cache's invalidation).
    explicit TicketStore(const WordSplitter& words) : words_(words) {}

    std::optional<Ticket> find(db::ReadLock& read, const std::string& id);
    std::optional<Ticket> find(db::WriteTx& tx, const std::string& id);
    // Listed tickets (not reserved, not sold) matching `q`, in its order, and how many match.
    SearchResult search(db::ReadLock& read, const SearchQuery& q);
    // Every ticket `owner_id` owns (listed, reserved or bought), matching `q` (words, prices, sort,
    // paging), and how many match.
    SearchResult search_owned(db::ReadLock& read, const std::string& owner_id,
                              const SearchQuery& q);
    void insert(db::WriteTx& tx, const Ticket& t, std::int64_t now_ms);
    // Writes title, price, owner, version, order id, face value and sold order of `t`.
    void update(db::WriteTx& tx, const Ticket& t, std::int64_t now_ms);
    void add_history(db::WriteTx& tx, const std::string& id, std::int64_t at_ms,
                     std::string_view event, std::int64_t price_cents);
    std::vector<HistoryEntry> history(db::ReadLock& read, const std::string& id);
    // `order_id` is over: cancelled, or completed. A late order:created of it reserves nothing,
    // and a reservation of it waiting (below) never takes the ticket.
    void mark_released(db::WriteTx& tx, const std::string& order_id);
    // Records that ticket `id` was sold to `buyer_id` (its order completed): who and when.
    void record_sale(db::WriteTx& tx, const std::string& id, const std::string& buyer_id,
                     std::int64_t now_ms);
    bool is_released(db::WriteTx& tx, const std::string& order_id);

    // Reservations that arrived while an earlier order still held their ticket (see
    // schema/tickets/008): kept until that order's cancellation frees the ticket.
    struct WaitingReservation {
        std::string order_id;
        std::int64_t price_cents = 0;
    };
    void add_waiting(db::WriteTx& tx, const std::string& ticket_id, const WaitingReservation& r,
                     std::int64_t now_ms);
    // The first reservation of `ticket_id` waiting, forgotten. Never a cancelled or completed
    // order's: on_order_cancelled and on_order_completed take theirs.
    std::optional<WaitingReservation> take_next_waiting(db::WriteTx& tx,
                                                        const std::string& ticket_id);
    // `order_id`'s waiting reservation if there is one, forgotten.
    std::optional<WaitingReservation> take_waiting(db::WriteTx& tx, const std::string& order_id);

    // The rendered JSON of single tickets, for GET /api/tickets/:id (read far more often than a
    // ticket changes). Guarded by the database's mutex, which the ReadLock proves is held; update()
    // drops a ticket's entry in the same critical section as its COMMIT, so no reader can see
    // the new row and still be served the old body.
    const std::string* cached_body(db::ReadLock& read, const std::string& id) const;
    const std::string& remember_body(db::ReadLock& read, const std::string& id, std::string body);

    // Rendered listing and search pages by SearchQuery::key(), for GET /api/tickets: a market is
    // searched far more often than its listing changes. Guarded like the bodies above. insert()
    // and update() drop, in the critical section of their COMMIT, every page of a search that
    // the ticket matched before the change or matches after it (listed, its title's words, its
    // price): no search can be served a page from before a change it could otherwise see, and a
    // new listing in one city leaves the pages of searches for another cached.
    struct Page {
        std::string body;
        std::int64_t total = 0;
        SearchQuery query;  // what it answers (its words and price range)
    };
    const Page* cached_page(db::ReadLock& read, const std::string& key) const;
    const Page& remember_page(db::ReadLock& read, const std::string& key, Page page);

private:
    // A listed ticket as the searches see it: its title's words and its price.
    struct Listed {
        std::vector<std::string> words;
        std::int64_t price_cents = 0;
    };
    Listed listed(const Ticket& t) const;
    void forget_pages_matching(const std::vector<Listed>& changed);

    const WordSplitter& words_;
    static constexpr std::size_t max_cached_bodies = 10000;
    static constexpr std::size_t max_cached_page_bytes = 16 << 20;  // ~2,000 pages of 50 tickets
    // Every change checks each cached page: few pages, however small clients make them.
    static constexpr std::size_t max_cached_pages = 4096;
    static std::size_t page_cost(const std::string& key, const Page& page);
    std::unordered_map<std::string, std::string> bodies_;
    std::unordered_map<std::string, Page> pages_;
    std::size_t pages_bytes_ = 0;
};

}  // namespace ticketd::tickets
