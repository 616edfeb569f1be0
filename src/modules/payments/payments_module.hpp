#pragma once
// The payments module owns charges and refunds (payments.db) and a replica of orders fed by
// order events. It charges the price recorded on the order, at most once per order, and refunds
// any payment that lands on an order cancelled in the meantime (the pay/expire race). Every
// charge the provider made is recorded or refunded: an attempt is on disk before the provider is
// asked, and one whose answer was lost is asked again with its idempotency key (on the buyer's
// next try, at start-up and by a reconciler) until its outcome is known.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_payments)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "host/module.hpp"

namespace ticketd::payments {

class PaymentProvider;

std::unique_ptr<Module> make_module(const ModuleContext& ctx);
// The same, with a provider chosen by the caller (tests: a provider that stalls or fails).
std::unique_ptr<Module> make_module(const ModuleContext& ctx,
                                    std::unique_ptr<PaymentProvider> provider);

// `ticketd payments`: lists what needs a person (refunds the provider refused for good, charges
// whose outcome is still unknown); `ticketd payments settle PAYMENT_ID NOTE` records that a
// refused refund was settled by hand. `db` is payments.db. Returns the exit status.
int payments_command(db::Database& db, const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);

}  // namespace ticketd::payments
