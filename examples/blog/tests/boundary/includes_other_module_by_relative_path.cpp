// Built by the "blog: module boundaries" tests as if it were part of the posts module: it must
// not compile. A path relative to the including file needs no include directory, so here the
// other module's header itself refuses (its guard sees TICKETD_IN_MODULE_posts).
#include "../../modules/comments/comments_module.hpp"
#include "posts_module.hpp"
