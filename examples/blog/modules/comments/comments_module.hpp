#pragma once
// The comments module owns comments (comments.db). It keeps a replica of posts (post:created),
// writes each new comment as `pending` with its comment:created, and applies moderation's
// decision (comment:moderated), announcing it as comment:updated, each in one transaction.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_comments)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <memory>

#include "host/module.hpp"

namespace blog::comments {

std::unique_ptr<ticketd::Module> make_module(const ticketd::ModuleContext& ctx);

}  // namespace blog::comments
