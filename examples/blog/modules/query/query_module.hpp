#pragma once
// The query module is the page's read model (query.db), built only from events: post:created,
// comment:created and comment:updated. GET /posts answers from it alone, so the page needs no
// other module to be up. Its database can be dropped at any time: a subscriber with no position
// reads the log from the beginning, and the view comes back as it was (`blog rebuild query`).
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_query)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <memory>

#include "host/module.hpp"

namespace blog::query {

std::unique_ptr<ticketd::Module> make_module(const ticketd::ModuleContext& ctx);

}  // namespace blog::query
