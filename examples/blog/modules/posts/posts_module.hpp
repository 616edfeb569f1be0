#pragma once
// The posts module owns posts (posts.db): POST /posts/create writes one and publishes
// post:created in the same transaction. Reading posts is the query module's job.
#include <memory>

#include "host/module.hpp"

namespace blog::posts {

std::unique_ptr<ticketd::Module> make_module(const ticketd::ModuleContext& ctx);

}  // namespace blog::posts
