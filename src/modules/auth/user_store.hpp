#pragma once
// All SQL on auth.db.
#include <optional>
#include <string>

namespace ticketd::db {
class Database;
}

namespace ticketd::auth {

struct UserRecord {
    std::string id;
    std::string email;
    std::string password_hash;
};

class UserStore {
public:
    explicit UserStore(db::Database& db) : db_(db) {}
    std::optional<UserRecord> find_by_email(const std::string& email);
    // Inserts the user; false when the email is already registered (the unique index refused it).
    bool insert(const UserRecord& user, std::int64_t created_at_ms);

private:
    db::Database& db_;
};

}  // namespace ticketd::auth
