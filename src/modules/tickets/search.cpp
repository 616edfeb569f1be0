#include "search.hpp"

#include <sqlite3.h>

#include <mutex>
#include <stdexcept>

#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "http/message.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace ticketd::tickets {
namespace {

constexpr std::int64_t default_page = 50;
constexpr std::int64_t max_page = 200;
// Paging deeper walks every skipped row while the database is locked: past this, narrow the
// listing down (search) instead.
constexpr std::int64_t max_offset = 10000;
constexpr std::size_t max_query = 100;

std::optional<std::int64_t> price_param(const http::Request& req, const std::string& name,
                                        http::Validation& v) {
    auto text = req.query_param(name);
    if (!text) return std::nullopt;
    auto trimmed = http::trim(*text);
    auto parsed = util::parse_price_text(trimmed);
    if (parsed.error == util::PriceError::none) return parsed.cents;
    // 0 is a valid bound (a price is not): "0", "0.0", ".00", with at most two decimals.
    auto dot = trimmed.find('.');
    std::string_view whole = std::string_view(trimmed).substr(0, dot);
    std::string_view fraction =
        dot == std::string::npos ? std::string_view{} : std::string_view(trimmed).substr(dot + 1);
    bool zero = !(whole.empty() && fraction.empty()) &&
                whole.find_first_not_of('0') == std::string_view::npos &&
                fraction.find_first_not_of('0') == std::string_view::npos && fraction.size() <= 2;
    if (zero) return 0;
    switch (parsed.error) {
        case util::PriceError::too_many_decimals:
            v.fail(name + " must have at most two decimals", name);
            break;
        case util::PriceError::too_large: v.fail(name + " must be at most 1000000", name); break;
        default: v.fail(name + " must be a price of 0 or more", name); break;
    }
    return std::nullopt;
}

}  // namespace

struct WordSplitter::Impl {
    fts5_tokenizer api{};
    Fts5Tokenizer* tokenizer = nullptr;
    std::mutex mutex;  // unicode61 folds into a buffer of its own: one tokenization at a time
};

WordSplitter::WordSplitter(sqlite3* db) : impl_(std::make_unique<Impl>()) {
    // SQLite hands out its FTS5 API through a pointer bound to `SELECT fts5(?)`.
    fts5_api* fts5 = nullptr;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, static_cast<void*>(&fts5), "fts5_api_ptr", nullptr);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    void* user_data = nullptr;
    const char* args[] = {"remove_diacritics", "2"};  // as tokenize = '...' in the schema
    if (!fts5 || fts5->iVersion < 2 ||
        fts5->xFindTokenizer(fts5, "unicode61", &user_data, &impl_->api) != SQLITE_OK ||
        impl_->api.xCreate(user_data, args, 2, &impl_->tokenizer) != SQLITE_OK)
        throw std::runtime_error("SQLite's FTS5 unicode61 tokenizer is not available");
}

WordSplitter::~WordSplitter() {
    if (impl_->tokenizer) impl_->api.xDelete(impl_->tokenizer);
}

std::vector<std::string> WordSplitter::words(std::string_view text) const {
    std::vector<std::string> out;
    auto add = [](void* ctx, int, const char* token, int size, int, int) {
        static_cast<std::vector<std::string>*>(ctx)->emplace_back(token,
                                                                  static_cast<std::size_t>(size));
        return SQLITE_OK;
    };
    std::lock_guard lock(impl_->mutex);
    impl_->api.xTokenize(impl_->tokenizer, &out, FTS5_TOKENIZE_QUERY, text.data(),
                         static_cast<int>(text.size()), add);
    return out;
}

std::string fts_match(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words) {
        if (!out.empty()) out += ' ';
        out += '"' + word + "\"*";
    }
    return out;
}

bool SearchQuery::matches(const std::vector<std::string>& title_words,
                          std::int64_t price_cents) const {
    if (min_cents && price_cents < *min_cents) return false;
    if (max_cents && price_cents > *max_cents) return false;
    for (const auto& w : words) {
        bool found = false;
        for (const auto& t : title_words)
            if (t.starts_with(w)) found = true;
        if (!found) return false;
    }
    return true;
}

std::string SearchQuery::key() const {
    auto bound = [](const std::optional<std::int64_t>& v) {
        return v ? std::to_string(*v) : std::string("-");
    };
    return match + '\n' + bound(min_cents) + '\n' + bound(max_cents) + '\n' +
           std::to_string(static_cast<int>(sort)) + '\n' + std::to_string(limit) + '\n' +
           std::to_string(offset);
}

SearchQuery parse_search(const http::Request& req, const WordSplitter& words, http::Validation& v) {
    SearchQuery s;
    if (auto q = req.query_param("q")) {
        if (util::character_count(*q) > max_query)
            v.fail("q must be at most 100 characters", "q");
        else {
            for (auto& w : words.words(*q))
                if (w.find('"') == std::string::npos) s.words.push_back(std::move(w));  // never '"'
            s.match = fts_match(s.words);
        }
    }
    s.min_cents = price_param(req, "minPrice", v);
    s.max_cents = price_param(req, "maxPrice", v);
    if (s.min_cents && s.max_cents && *s.min_cents > *s.max_cents)
        v.fail("maxPrice must be at least minPrice", "maxPrice");
    if (auto sort = req.query_param("sort")) {
        if (*sort == "newest")
            s.sort = SearchSort::newest;
        else if (*sort == "price")
            s.sort = SearchSort::price_ascending;
        else if (*sort == "-price")
            s.sort = SearchSort::price_descending;
        else
            v.fail("sort must be newest, price or -price", "sort");
    }
    s.limit = http::query_integer(req, "limit", 0, max_page, default_page, v);
    s.offset = http::query_integer(req, "offset", 0, max_offset, 0, v);
    return s;
}

}  // namespace ticketd::tickets
