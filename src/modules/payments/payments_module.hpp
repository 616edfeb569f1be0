#pragma once
// The payments module owns charges and refunds (payments.db) and a replica of orders fed by
// order events. It charges the price recorded on the order, at most once per order, and refunds
// any payment that lands on an order cancelled in the meantime (the pay/expire race).
#include <memory>

#include "app/module.hpp"

namespace ticketd::payments {

class PaymentProvider;

std::unique_ptr<Module> make_module(const ModuleContext& ctx);
// The same, with a provider chosen by the caller (tests: a provider that stalls or fails).
std::unique_ptr<Module> make_module(const ModuleContext& ctx, std::unique_ptr<PaymentProvider> provider);

}  // namespace ticketd::payments
