// libFuzzer: the text parsers that see client input without SQL in between: prices, RFC 3339
// times, base64, session tokens, cookies and query strings.
#include <cstdlib>
#include <string>

#include "http/message.hpp"
#include "http/session.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"
#include "util/money.hpp"
#include "util/time_format.hpp"

using namespace ticketd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto price = util::parse_price_text(text);
    if (price.error == util::PriceError::none &&
        (price.cents <= 0 || price.cents > util::max_price_cents))
        std::abort();
    if (auto t = util::parse_rfc3339(text)) {
        // What parses must print and parse back to the same instant (to the millisecond).
        if (util::parse_rfc3339(util::format_rfc3339_ms(*t)) != t) std::abort();
    }
    if (auto bytes = util::base64_decode(text)) {
        if (util::base64_decode(util::base64_encode(*bytes)) != bytes) std::abort();
    }
    static util::SystemClock clock;
    static http::Sessions sessions("fuzz-key", false, std::chrono::hours(1), clock);
    if (sessions.verify(text)) std::abort();  // nothing random is a valid signed token
    http::Request req;
    req.headers.push_back({"Cookie", text});
    req.query = text;
    (void)sessions.from_request(req);
    (void)req.query_param("limit");
    (void)http::percent_decode(text, true);
    return 0;
}
