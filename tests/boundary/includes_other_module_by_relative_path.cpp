// Built by the "module boundaries" tests as if it were part of the tickets module: it must not
// compile. A path relative to the including file needs no include directory, so here the other
// module's header itself refuses (its guard sees TICKETD_IN_MODULE_tickets, not its own module).
#include "../../src/modules/orders/orders_module.hpp"
#include "tickets_module.hpp"
