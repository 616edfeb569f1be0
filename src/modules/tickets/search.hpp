#pragma once
// The search parameters of GET /api/tickets (API.md, "Marketplace"): q, minPrice, maxPrice, sort,
// limit and offset, validated together (each invalid one is its own error), and the user's words
// turned into an FTS5 query that no input can make a syntax error.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_tickets)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace ticketd::http {
struct Request;
class Validation;
}  // namespace ticketd::http

namespace ticketd::tickets {

enum class SearchSort { newest, price_ascending, price_descending };

struct SearchQuery {
    std::vector<std::string> words;  // the words of q, folded as the index folds titles
    std::string match;               // the FTS5 query of `words`; empty: no word filter
    std::optional<std::int64_t> min_cents;
    std::optional<std::int64_t> max_cents;
    SearchSort sort = SearchSort::newest;
    std::int64_t limit = 50;
    std::int64_t offset = 0;

    // The same text for the same search, whatever the query string's spelling.
    std::string key() const;
    // Whether a listed ticket titled with `title_words` (WordSplitter::words of its title) at
    // `price_cents` is among this search's matches: each word starts a word of the title, and
    // the price is in range. What the index's MATCH and the price filter decide, in memory.
    bool matches(const std::vector<std::string>& title_words, std::int64_t price_cents) const;
};

// The title index's own tokenizer (FTS5's unicode61, diacritics removed), borrowed from SQLite:
// a search splits its words exactly as the index split the titles. Letters, numbers and private
// use characters (Unicode's L*, N* and Co) make words; every other code point separates them,
// whatever the script. Safe to share between threads.
class WordSplitter {
public:
    // `db`: an open connection with FTS5, used only here (the caller holds its lock); the
    // tokenizer does not use it afterwards. Throws std::runtime_error if unicode61 is missing.
    explicit WordSplitter(sqlite3* db);
    ~WordSplitter();
    // The words of `text`, case and accents folded as the index folds them.
    std::vector<std::string> words(std::string_view text) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Each invalid parameter is reported to `v` (the caller throws, with its own parameters' errors).
SearchQuery parse_search(const http::Request& req, const WordSplitter& words, http::Validation& v);

// `words` (of a query: WordSplitter::words), each quoted and made a prefix, all required:
// `Radio comp!` -> `"radio"* "comp"*`. Empty when there is no word. A word holds no separator,
// so no quote: no input can close one.
std::string fts_match(const std::vector<std::string>& words);

}  // namespace ticketd::tickets
