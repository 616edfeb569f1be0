// Built by the "module boundaries" tests with the tickets module's include paths: it must not
// compile, because only the composition root sees how modules are put together.
#include "app/app.hpp"
#include "tickets_module.hpp"
