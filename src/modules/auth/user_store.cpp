#include "user_store.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "db/database.hpp"

namespace ticketd::auth {

std::optional<UserRecord> UserStore::find_by_email(const std::string& email) {
    db::ReadLock read(db_);
    auto& q = read.statement("SELECT id, email, password_hash FROM users WHERE email = ?");
    q.bind(1, email);
    if (!q.executeStep()) return std::nullopt;
    return UserRecord{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString()};
}

bool UserStore::insert(const UserRecord& user, std::int64_t created_at_ms) {
    db::WriteTx tx(db_);
    auto& ins = tx.statement(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)");
    ins.bind(1, user.id);
    ins.bind(2, user.email);
    ins.bind(3, user.password_hash);
    ins.bind(4, created_at_ms);
    try {
        ins.exec();
    } catch (const std::exception& e) {
        if (db::is_unique_violation(e)) return false;
        throw;
    }
    tx.commit();
    return true;
}

}  // namespace ticketd::auth
