// Built by the "blog: module boundaries" tests with the posts module's include paths: it must not
// compile, because the blog is made of the core alone, never of ticketd's modules or settings.
#include "config.hpp"
#include "posts_module.hpp"
