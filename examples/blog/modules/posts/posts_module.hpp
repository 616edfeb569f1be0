#pragma once
// The posts module owns posts (posts.db): POST /posts/create writes one and publishes
// post:created in the same transaction. Reading posts is the query module's job.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_posts)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <memory>

#include "host/module.hpp"

namespace blog::posts {

std::unique_ptr<ticketd::Module> make_module(const ticketd::ModuleContext& ctx);

}  // namespace blog::posts
