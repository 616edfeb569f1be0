#pragma once
// Every SQL statement of the posts module.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_posts)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <string>

namespace ticketd::db {
class WriteTx;
class ReadLock;
}  // namespace ticketd::db

namespace blog::posts {

struct Post {
    std::string id;
    std::string title;
};

class PostStore {
public:
    void insert(ticketd::db::WriteTx& tx, const Post& post, std::int64_t now_ms);
    std::int64_t count(ticketd::db::ReadLock& read);
};

}  // namespace blog::posts
