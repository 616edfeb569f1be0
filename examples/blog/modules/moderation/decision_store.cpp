#include "decision_store.hpp"

#include <SQLiteCpp/Column.h>

#include "db/database.hpp"
#include "db/query.hpp"

namespace blog::moderation {
namespace db = ticketd::db;

bool DecisionStore::record(db::WriteTx& tx, const Decision& d, std::int64_t now_ms) {
    return db::exec(tx,
                    "INSERT INTO decisions (comment_id, post_id, status, banned_word, decided_at) "
                    "VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (comment_id) DO NOTHING",
                    d.comment_id, d.post_id, events::to_text(d.status), d.banned_word, now_ms) > 0;
}

std::int64_t DecisionStore::count(db::ReadLock& read, events::CommentStatus status) {
    auto& q =
        db::query(read, "SELECT count(*) FROM decisions WHERE status = ?", events::to_text(status));
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

}  // namespace blog::moderation
