// Built by the "blog: module boundaries" tests with the posts module's include paths, as a
// control: its own header, the blog's API and the core are found.
#include "blog/events.hpp"
#include "host/module.hpp"
#include "post_store.hpp"
#include "posts_module.hpp"
