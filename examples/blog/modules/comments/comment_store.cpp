#include "comment_store.hpp"

#include <SQLiteCpp/Column.h>

#include "db/database.hpp"
#include "db/query.hpp"

namespace blog::comments {
namespace db = ticketd::db;

bool CommentStore::add_post(db::WriteTx& tx, const std::string& id, const std::string& title) {
    return db::exec(tx, "INSERT INTO posts (id, title) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                    id, title) > 0;
}

template <class Tx>
bool CommentStore::has_post(Tx& tx, const std::string& id) {
    return db::query(tx, "SELECT 1 FROM posts WHERE id = ?", id).executeStep();
}
template bool CommentStore::has_post(db::WriteTx&, const std::string&);
template bool CommentStore::has_post(db::ReadLock&, const std::string&);

void CommentStore::insert(db::WriteTx& tx, const Comment& c, std::int64_t now_ms) {
    db::exec(
        tx,
        "INSERT INTO comments (id, post_id, content, status, created_at) VALUES (?, ?, ?, ?, ?)",
        c.id, c.post_id, c.content, events::to_text(c.status), now_ms);
}

std::optional<Comment> CommentStore::find(db::WriteTx& tx, const std::string& id) {
    auto& q = db::query(tx, "SELECT id, post_id, content, status FROM comments WHERE id = ?", id);
    if (!q.executeStep()) return std::nullopt;
    return Comment{.id = q.getColumn(0).getString(),
                   .post_id = q.getColumn(1).getString(),
                   .content = q.getColumn(2).getString(),
                   .status = events::status_from_text(q.getColumn(3).getString())};
}

void CommentStore::set_status(db::WriteTx& tx, const std::string& id,
                              events::CommentStatus status) {
    db::exec(tx, "UPDATE comments SET status = ? WHERE id = ?", events::to_text(status), id);
}

template <class Tx>
std::vector<Comment> CommentStore::for_post(Tx& tx, const std::string& post_id) {
    auto& q = db::query(tx, "SELECT id, content, status FROM comments WHERE post_id = ? ORDER BY n",
                        post_id);
    std::vector<Comment> out;
    while (q.executeStep())
        out.push_back({.id = q.getColumn(0).getString(),
                       .post_id = post_id,
                       .content = q.getColumn(1).getString(),
                       .status = events::status_from_text(q.getColumn(2).getString())});
    return out;
}
template std::vector<Comment> CommentStore::for_post(db::WriteTx&, const std::string&);
template std::vector<Comment> CommentStore::for_post(db::ReadLock&, const std::string&);

std::int64_t CommentStore::count_pending(db::ReadLock& read) {
    auto& q = db::query(read, "SELECT count(*) FROM comments WHERE status = 'pending'");
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

}  // namespace blog::comments
