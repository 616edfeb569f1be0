#include "post_store.hpp"

#include <SQLiteCpp/Column.h>

#include "db/database.hpp"
#include "db/query.hpp"

namespace blog::posts {
namespace db = ticketd::db;

void PostStore::insert(db::WriteTx& tx, const Post& post, std::int64_t now_ms) {
    db::exec(tx, "INSERT INTO posts (id, title, created_at) VALUES (?, ?, ?)", post.id, post.title,
             now_ms);
}

std::int64_t PostStore::count(db::ReadLock& read) {
    auto& q = db::query(read, "SELECT count(*) FROM posts");
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

}  // namespace blog::posts
