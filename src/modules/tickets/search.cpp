#include "search.hpp"

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

// The next code point of UTF-8 text at `i` (advanced past it); invalid bytes are taken one by
// one as themselves.
char32_t next_code_point(std::string_view s, std::size_t& i) {
    auto c = static_cast<unsigned char>(s[i++]);
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    char32_t cp = extra == 3 ? c & 0x07 : extra == 2 ? c & 0x0F : extra == 1 ? c & 0x1F : c;
    for (int k = 0; k < extra; ++k) {
        if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return c;
        cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
    }
    return cp;
}

// Whether a code point separates words. ASCII: anything but letters and digits. Beyond it, the
// blocks of spaces, punctuation and symbols people type or paste (Latin-1's signs, general
// punctuation, arrows, mathematical and other symbols, CJK punctuation, full-width ASCII
// signs); every other code point is taken as part of a word, as unicode61 takes letters.
bool separates(char32_t c) {
    if (c < 0x80)
        return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
    if (c >= 0x80 && c <= 0xBF)
        return c != 0xAA && c != 0xB5 && c != 0xBA && c != 0xB2 && c != 0xB3 && c != 0xB9;
    if (c == 0xD7 || c == 0xF7) return true;
    if (c >= 0x2000 && c <= 0x2BFF) return true;
    if (c >= 0x3000 && c <= 0x303F) return true;
    if (c >= 0xFE30 && c <= 0xFE4F) return true;
    if (c >= 0xFF00 && c <= 0xFF0F) return true;
    if (c >= 0xFF1A && c <= 0xFF20) return true;
    if (c >= 0x1F000 && c <= 0x1FAFF) return true;  // emoji and pictographs
    return false;
}

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

std::string fts_match(std::string_view q) {
    std::string out, word;
    auto flush = [&] {
        if (word.empty()) return;
        if (!out.empty()) out += ' ';
        out += '"' + word + "\"*";
        word.clear();
    };
    for (std::size_t i = 0; i < q.size();) {
        auto start = i;
        char32_t c = next_code_point(q, i);
        if (separates(c))
            flush();
        else
            word.append(q.substr(start, i - start));
    }
    flush();
    return out;
}

std::string SearchQuery::key() const {
    auto bound = [](const std::optional<std::int64_t>& v) {
        return v ? std::to_string(*v) : std::string("-");
    };
    return match + '\n' + bound(min_cents) + '\n' + bound(max_cents) + '\n' +
           std::to_string(static_cast<int>(sort)) + '\n' + std::to_string(limit) + '\n' +
           std::to_string(offset);
}

SearchQuery parse_search(const http::Request& req, http::Validation& v) {
    SearchQuery s;
    if (auto q = req.query_param("q")) {
        if (util::character_count(*q) > max_query)
            v.fail("q must be at most 100 characters", "q");
        else
            s.match = fts_match(*q);
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
