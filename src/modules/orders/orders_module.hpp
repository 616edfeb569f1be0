#pragma once
// The orders module owns orders (orders.db) and a replica of tickets fed by ticket events. It
// reserves a ticket for a buyer (at most one active order per ticket, enforced by a partial
// unique index), cancels on request or expiry, and completes on payment.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_orders)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <memory>

#include "host/module.hpp"

namespace ticketd::orders {

std::unique_ptr<Module> make_module(const ModuleContext& ctx);

}  // namespace ticketd::orders
