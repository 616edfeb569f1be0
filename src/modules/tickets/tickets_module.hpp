#pragma once
// The tickets module owns tickets (tickets.db): sellers list and edit them; it learns from order
// events when a ticket is reserved or released, and publishes every change as ticket:created /
// ticket:updated through its outbox, in the same transaction as the change.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_tickets)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <memory>

#include "host/module.hpp"

namespace ticketd::tickets {

std::unique_ptr<Module> make_module(const ModuleContext& ctx);

}  // namespace ticketd::tickets
