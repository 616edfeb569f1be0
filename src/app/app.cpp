#include "app/app.hpp"

#include <boost/json/object.hpp>

#include "embedded.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "modules/auth/auth_module.hpp"
#include "modules/expiration/expiration_module.hpp"
#include "modules/orders/orders_module.hpp"
#include "modules/payments/payments_module.hpp"
#include "modules/tickets/tickets_module.hpp"

namespace ticketd {

std::vector<ModuleSpec> builtin_modules() {
    return {{"auth", auth::make_module},
            {"tickets", tickets::make_module},
            {"orders", orders::make_module},
            {"expiration", expiration::make_module},
            {"payments", [](const ModuleContext& ctx) { return payments::make_module(ctx); }}};
}

host::HostOptions host_options(const Config& config, AppOptions options) {
    host::HostOptions h;
    h.program = "ticketd";
    if (options.builtin_modules) h.modules = builtin_modules();
    h.extra_modules = std::move(options.extra_modules);
    h.schema = schema_files();
    h.web = web::embedded_files();
    // Stripe's card form is the one thing loaded from elsewhere.
    h.content_security_policy =
        "default-src 'self'; script-src 'self' https://js.stripe.com; "
        "frame-src https://js.stripe.com; connect-src 'self' https://api.stripe.com; "
        "img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'";
    // What the web UI needs to know about this server.
    h.add_routes = [&config](http::Router& router) {
        router.get("/api/config", [&config](const http::Request&) {
            boost::json::object o{{"payments", to_string(config.payments)},
                                  {"reservationWindowSeconds", config.reservation_window_seconds},
                                  {"resaleCapPercent", config.resale_cap_percent}};
            if (!config.stripe_publishable_key.empty())
                o["stripePublishableKey"] = config.stripe_publishable_key;
            return http::json(200, o);
        });
    };
    h.clock = options.clock;
    h.bus = options.bus;
    return h;
}

App::App(Config config, AppOptions options)
    : config_(std::move(config)),
      host_(std::make_unique<host::Host>(config_, host_options(config_, std::move(options)))) {}

App::~App() = default;

}  // namespace ticketd
