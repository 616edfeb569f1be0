#pragma once
// Everything a ticketd deployment can set, from flags and environment variables, with defaults
// that run out of the box: the core's settings (host/host_config.hpp) plus the marketplace's own.
// `ticketd --help` prints the table config.cpp defines.
#include <string>
#include <string_view>
#include <vector>

#include "host/host_config.hpp"

namespace ticketd {

// Who takes the money: the built-in fake (no money moves) or Stripe.
enum class PaymentsProvider { fake, stripe };
constexpr std::string_view to_string(PaymentsProvider p) {
    return p == PaymentsProvider::stripe ? "stripe" : "fake";
}

struct Config : host::HostConfig {
    int reservation_window_seconds = 900;
    PaymentsProvider payments = PaymentsProvider::fake;
    bool payments_chosen = false;  // set by --payments or PAYMENTS_PROVIDER
    int order_wait_ms =
        1000;  // an order (payment) waits this long for a ticket (order) not seen yet
    // A once-sold ticket's price is at most its face value times this, in percent (0: no cap).
    int resale_cap_percent = 100;
    std::string stripe_key;
    std::string stripe_api_base = "https://api.stripe.com";
    int stripe_timeout_ms = 10000;  // per try of a Stripe call
    std::string stripe_publishable_key;
};

using host::UsageError;

// The five business modules, in the order they are built.
const std::vector<std::string>& module_names();

// Every option of ticketd: the core's, then the marketplace's.
const std::vector<host::Option>& options();

// Production must never sell through the fake provider by accident, nor talk to Stripe in clear.
// Throws UsageError.
void check_production(const Config& config);

}  // namespace ticketd
