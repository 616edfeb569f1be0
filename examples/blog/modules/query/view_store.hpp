#pragma once
// Every SQL statement of the query module.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_query)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <string>

#include "blog/events.hpp"

namespace ticketd::db {
class WriteTx;
class ReadLock;
}  // namespace ticketd::db

namespace blog::query {

class ViewStore {
public:
    void add_post(ticketd::db::WriteTx& tx, const events::PostCreated& e);
    // False if its post is not in the view (yet); a comment already there is left as it is.
    bool add_comment(ticketd::db::WriteTx& tx, const events::CommentCreated& e);
    // The comment whatever its post: it shows once the post arrives (render skips it until then).
    void add_comment_before_post(ticketd::db::WriteTx& tx, const events::CommentCreated& e);
    // False if the comment is not in the view (yet).
    bool update_comment(ticketd::db::WriteTx& tx, const events::CommentUpdated& e);
    // The comment with this status, inserted if its comment:created has not come yet (which then
    // leaves it as it is).
    void upsert_comment(ticketd::db::WriteTx& tx, const events::CommentUpdated& e);
    // GET /posts: {"<id>": {id, title, comments: [{id, content, status}]}}, posts and comments in
    // the order they were logged, as JSON text.
    std::string render(ticketd::db::ReadLock& read);
    std::int64_t count_posts(ticketd::db::ReadLock& read);
};

}  // namespace blog::query
