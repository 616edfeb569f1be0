#pragma once
// The blog on ticketd's core: its four modules, settings, schema and page on a host::Host.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "blog/config.hpp"
#include "host/cli.hpp"
#include "host/host.hpp"
#include "util/embedded_file.hpp"

namespace blog {

// Compiled in by cmake/embed.cmake from examples/blog/schema and examples/blog/web.
std::span<const ticketd::EmbeddedFile> schema_files();
std::span<const ticketd::EmbeddedFile> web_files();

// posts, comments, moderation, query.
std::vector<ticketd::ModuleSpec> modules();

// What the host needs to run the blog on `config` (which outlives it).
ticketd::host::HostOptions host_options(const Config& config);

// The blog as the core's command line sees it: `blog [serve]`, `blog rebuild query`, `blog
// events graph`, ...
const ticketd::host::Application& application();

// Drops the query view of a stopped server's data directory and rebuilds it from the event log.
// Returns the number of posts in the rebuilt view.
std::int64_t rebuild_query(const Config& config);

}  // namespace blog
