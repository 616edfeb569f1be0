#pragma once
// The orders module owns orders (orders.db) and a replica of tickets fed by ticket events. It
// reserves a ticket for a buyer (at most one active order per ticket, enforced by a partial
// unique index), cancels on request or expiry, and completes on payment.
#include <memory>

#include "host/module.hpp"

namespace ticketd::orders {

std::unique_ptr<Module> make_module(const ModuleContext& ctx);

}  // namespace ticketd::orders
