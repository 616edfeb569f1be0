// Built by the "module boundaries" tests with the tickets module's include paths: it must not
// compile, because a module cannot see another module's headers.
#include "orders/orders_module.hpp"
#include "tickets_module.hpp"
