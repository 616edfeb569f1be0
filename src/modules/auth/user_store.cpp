#include "user_store.hpp"

#include "db/database.hpp"
#include "db/query.hpp"

namespace ticketd::auth {

std::optional<UserRecord> UserStore::find_by_email(db::ReadLock& read, const std::string& email) {
    auto& q = db::query(read, "SELECT id, email, password_hash FROM users WHERE email = ?", email);
    if (!q.executeStep()) return std::nullopt;
    return UserRecord{.id = q.getColumn(0).getString(),
                      .email = q.getColumn(1).getString(),
                      .password_hash = q.getColumn(2).getString()};
}

bool UserStore::insert(db::WriteTx& tx, const UserRecord& user, std::int64_t created_at_ms) {
    try {
        db::exec(tx, "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
                 user.id, user.email, user.password_hash, created_at_ms);
    } catch (const std::exception& e) {
        if (db::is_unique_violation(e)) return false;
        throw;
    }
    return true;
}

}  // namespace ticketd::auth
