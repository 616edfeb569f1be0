// Built by the "blog: module boundaries" tests with the posts module's include paths: it must not
// compile, because a blog module cannot see another module's headers.
#include "comments/comments_module.hpp"
#include "posts_module.hpp"
