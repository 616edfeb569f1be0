#pragma once
// The auth module owns users (auth.db): sign up, sign in, sign out and the current user. It
// issues session tokens through the core's Sessions; other modules learn who is signed in from
// the request, never from this module.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_auth)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <memory>

#include "host/module.hpp"

namespace ticketd::auth {

std::unique_ptr<Module> make_module(const ModuleContext& ctx);

}  // namespace ticketd::auth
