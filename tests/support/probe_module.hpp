#pragma once
// A test-only module that exercises the foundation end to end: POST /test/probe publishes a
// ticket:created event through its outbox; its own listener records every such event it sees.
#include "host/module.hpp"

namespace ticketd::test {

// GET /test/probe lists the titles seen; a title "poison" makes the listener throw every time;
// GET /test/boom throws a plain exception (a 500).
ModuleFactory probe_module();

}  // namespace ticketd::test
