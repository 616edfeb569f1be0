#include "config.hpp"

namespace ticketd {

using host::app_option;
using host::one_of;
using host::parse_int;

const std::vector<std::string>& module_names() {
    static const std::vector<std::string> names = {"auth", "tickets", "orders", "expiration",
                                                   "payments"};
    return names;
}

const std::vector<host::Option>& options() {
    static const std::vector<host::Option> table = [] {
        auto t = host::host_options("TICKETD_", module_names());
        std::vector<host::Option> own = {
            app_option<Config>(
                "--reservation-window", "EXPIRATION_WINDOW_SECONDS", "SECONDS",
                "how long an order holds its ticket before it expires",
                [](auto& c) { return std::to_string(c.reservation_window_seconds); },
                [](auto& c, auto& v) {
                    c.reservation_window_seconds = parse_int(v, 1, 7 * 24 * 3600);
                }),
            app_option<Config>(
                "--payments", "PAYMENTS_PROVIDER", "fake|stripe",
                "payment provider: the built-in fake (tok_visa succeeds, no money moves) or Stripe"
                " (STRIPE_KEY); production mode requires choosing one explicitly",
                [](auto& c) { return std::string(to_string(c.payments)); },
                [](auto& c, auto& v) {
                    c.payments = one_of(v, {"fake", "stripe"}) == "stripe"
                                     ? PaymentsProvider::stripe
                                     : PaymentsProvider::fake;
                    c.payments_chosen = true;
                }),
            app_option<Config>(
                "--order-wait", "TICKETD_ORDER_WAIT_MS", "MS",
                "how long an order waits for a ticket listed a moment ago, and a payment for an "
                "order placed a"
                " moment ago, to arrive through the bus before answering 404 (0: not at all)",
                [](auto& c) { return std::to_string(c.order_wait_ms); },
                [](auto& c, auto& v) { c.order_wait_ms = parse_int(v, 0, 60000); }),
            app_option<Config>(
                "--resale-cap-percent", "TICKETD_RESALE_CAP_PERCENT", "PERCENT",
                "a ticket sold once is resold (or repriced) for at most its face value times this"
                " (100: at face value; 0: no cap)",
                [](auto& c) { return std::to_string(c.resale_cap_percent); },
                [](auto& c, auto& v) { c.resale_cap_percent = parse_int(v, 0, 100000); }),
            app_option<Config>(
                "", "STRIPE_KEY", "KEY", "Stripe secret key (with --payments stripe)",
                [](auto&) { return std::string("none"); },
                [](auto& c, auto& v) { c.stripe_key = v; }),
            app_option<Config>(
                "", "STRIPE_API_BASE", "URL", "Stripe API base URL (tests point it at a stub)",
                [](auto& c) { return c.stripe_api_base; },
                [](auto& c, auto& v) {
                    if (v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0)
                        throw std::invalid_argument("expected an http:// or https:// URL");
                    c.stripe_api_base = v;
                }),
            app_option<Config>(
                "", "STRIPE_TIMEOUT_MS", "MS",
                "time allowed for each try of a Stripe call (4 tries, same idempotency key)",
                [](auto& c) { return std::to_string(c.stripe_timeout_ms); },
                [](auto& c, auto& v) { c.stripe_timeout_ms = parse_int(v, 100, 600000); }),
            app_option<Config>(
                "", "STRIPE_PUBLISHABLE_KEY", "KEY",
                "Stripe publishable key for the web UI's card form",
                [](auto&) { return std::string("none"); },
                [](auto& c, auto& v) { c.stripe_publishable_key = v; }),
        };
        t.insert(t.end(), own.begin(), own.end());
        return t;
    }();
    return table;
}

void check_production(const Config& c) {
    if (!c.production) return;
    if (!c.payments_chosen)
        throw UsageError(
            "production mode needs an explicit payment provider: --payments stripe "
            "(PAYMENTS_PROVIDER=stripe,"
            " with STRIPE_KEY) to take real money, or --payments fake (PAYMENTS_PROVIDER=fake) for "
            "a demo"
            " that takes none");
    if (c.payments == PaymentsProvider::stripe && c.stripe_api_base.rfind("https://", 0) != 0)
        throw UsageError("STRIPE_API_BASE: must be an https:// URL in production mode, got '" +
                         c.stripe_api_base + "'");
    if (c.payments == PaymentsProvider::stripe && c.stripe_key.empty())
        throw UsageError("STRIPE_KEY: must be set with --payments stripe");
}

}  // namespace ticketd
