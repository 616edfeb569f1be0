#include "view_store.hpp"

#include <SQLiteCpp/Column.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "db/database.hpp"
#include "db/query.hpp"

namespace blog::query {
namespace db = ticketd::db;

void ViewStore::add_post(db::WriteTx& tx, const events::PostCreated& e) {
    db::exec(tx, "INSERT INTO posts (id, title) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", e.id,
             e.title);
}

bool ViewStore::add_comment(db::WriteTx& tx, const events::CommentCreated& e) {
    // One statement on the path a rebuild takes a million times; the second only when it wrote
    // nothing.
    if (db::exec(tx,
                 "INSERT INTO comments (id, post_id, content, status) SELECT ?, ?, ?, ?"
                 " WHERE EXISTS (SELECT 1 FROM posts WHERE id = ?) ON CONFLICT (id) DO NOTHING",
                 e.id, e.post_id, e.content, events::to_text(e.status), e.post_id) > 0)
        return true;
    return db::query(tx, "SELECT 1 FROM posts WHERE id = ?", e.post_id).executeStep();
}

void ViewStore::add_comment_before_post(db::WriteTx& tx, const events::CommentCreated& e) {
    db::exec(tx,
             "INSERT INTO comments (id, post_id, content, status) VALUES (?, ?, ?, ?) ON CONFLICT "
             "(id) DO NOTHING",
             e.id, e.post_id, e.content, events::to_text(e.status));
}

void ViewStore::upsert_comment(db::WriteTx& tx, const events::CommentUpdated& e) {
    db::exec(tx,
             "INSERT INTO comments (id, post_id, content, status) VALUES (?, ?, ?, ?)"
             " ON CONFLICT (id) DO UPDATE SET status = excluded.status",
             e.id, e.post_id, e.content, events::to_text(e.status));
}

bool ViewStore::update_comment(db::WriteTx& tx, const events::CommentUpdated& e) {
    return db::exec(tx, "UPDATE comments SET status = ? WHERE id = ?", events::to_text(e.status),
                    e.id) > 0;
}

std::string ViewStore::render(db::ReadLock& read) {
    boost::json::object view;
    auto& posts = db::query(read, "SELECT id, title FROM posts ORDER BY n");
    while (posts.executeStep()) {
        std::string id = posts.getColumn(0).getString();
        view[id] = boost::json::object{{"id", id},
                                       {"title", posts.getColumn(1).getString()},
                                       {"comments", boost::json::array{}}};
    }
    auto& comments =
        db::query(read, "SELECT post_id, id, content, status FROM comments ORDER BY n");
    while (comments.executeStep()) {
        auto* post = view.if_contains(comments.getColumn(0).getString());
        if (!post) continue;  // its post has not come yet (see the query module)
        post->get_object()["comments"].get_array().push_back(
            boost::json::object{{"id", comments.getColumn(1).getString()},
                                {"content", comments.getColumn(2).getString()},
                                {"status", comments.getColumn(3).getString()}});
    }
    return boost::json::serialize(view);
}

std::int64_t ViewStore::count_posts(db::ReadLock& read) {
    auto& q = db::query(read, "SELECT count(*) FROM posts");
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

}  // namespace blog::query
