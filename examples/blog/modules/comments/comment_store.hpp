#pragma once
// Every SQL statement of the comments module.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_comments)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "blog/events.hpp"

namespace ticketd::db {
class WriteTx;
class ReadLock;
}  // namespace ticketd::db

namespace blog::comments {

struct Comment {
    std::string id;
    std::string post_id;
    std::string content;
    events::CommentStatus status = events::CommentStatus::pending;
};

class CommentStore {
public:
    // The replica of posts: true if it was new.
    bool add_post(ticketd::db::WriteTx& tx, const std::string& id, const std::string& title);
    template <class Tx>
    bool has_post(Tx& tx, const std::string& id);

    void insert(ticketd::db::WriteTx& tx, const Comment& comment, std::int64_t now_ms);
    std::optional<Comment> find(ticketd::db::WriteTx& tx, const std::string& id);
    void set_status(ticketd::db::WriteTx& tx, const std::string& id, events::CommentStatus status);
    // The post's comments, oldest first.
    template <class Tx>
    std::vector<Comment> for_post(Tx& tx, const std::string& post_id);
    std::int64_t count_pending(ticketd::db::ReadLock& read);
};

}  // namespace blog::comments
