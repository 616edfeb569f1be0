#pragma once
// The search parameters of GET /api/tickets (API.md, "Marketplace"): q, minPrice, maxPrice, sort,
// limit and offset, validated together (each invalid one is its own error), and the user's words
// turned into an FTS5 query that no input can make a syntax error.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_tickets)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ticketd::http {
struct Request;
class Validation;
}  // namespace ticketd::http

namespace ticketd::tickets {

enum class SearchSort { newest, price_ascending, price_descending };

struct SearchQuery {
    std::string match;  // an FTS5 query on the title; empty: no word filter
    std::optional<std::int64_t> min_cents;
    std::optional<std::int64_t> max_cents;
    SearchSort sort = SearchSort::newest;
    std::int64_t limit = 50;
    std::int64_t offset = 0;

    // The same text for the same search, whatever the query string's spelling.
    std::string key() const;
};

// Each invalid parameter is reported to `v` (the caller throws, with its own parameters' errors).
SearchQuery parse_search(const http::Request& req, http::Validation& v);

// The words of `q`, split at white space and punctuation, each quoted and made a prefix, all
// required: `Radio comp!` -> `"radio"* "comp"*` (the tokenizer folds case and accents on both
// sides). Empty when `q` holds no word. Only letters and digits reach the quotes, so no input
// can close one.
std::string fts_match(std::string_view q);

}  // namespace ticketd::tickets
