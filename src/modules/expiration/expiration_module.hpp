#pragma once
// The expiration module owns pending reservation deadlines (expiration.db). For every
// order:created it stores a job; when the deadline passes it publishes expiration:complete.
//
// One timer for the whole module, armed for the earliest due job, rather than one timer per
// job: tens of thousands of pending orders cost one row each on disk and nothing in memory, a
// restart re-arms with a single query, and jobs that fell due while the server was down fire at
// once in one batch.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_expiration)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <memory>

#include "host/module.hpp"

namespace ticketd::expiration {

std::unique_ptr<Module> make_module(const ModuleContext& ctx);

}  // namespace ticketd::expiration
