// Built by the "module boundaries" tests with the tickets module's include paths, as a control:
// its own header and the module API are found, so the other probes fail for their one include.
#include "bus/bus.hpp"
#include "config.hpp"
#include "host/module.hpp"
#include "tickets_module.hpp"
