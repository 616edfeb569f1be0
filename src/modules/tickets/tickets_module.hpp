#pragma once
// The tickets module owns tickets (tickets.db): sellers list and edit them; it learns from order
// events when a ticket is reserved or released, and publishes every change as ticket:created /
// ticket:updated through its outbox, in the same transaction as the change.
#include <memory>

#include "host/module.hpp"

namespace ticketd::tickets {

std::unique_ptr<Module> make_module(const ModuleContext& ctx);

}  // namespace ticketd::tickets
