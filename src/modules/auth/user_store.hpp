#pragma once
// All SQL on auth.db. Like every module's store, it holds no database: the caller's ReadLock or
// WriteTx says which transaction a call runs in.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_auth)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <optional>
#include <string>

namespace ticketd::db {
class ReadLock;
class WriteTx;
}  // namespace ticketd::db

namespace ticketd::auth {

struct UserRecord {
    std::string id;
    std::string email;
    std::string password_hash;
};

class UserStore {
public:
    std::optional<UserRecord> find_by_email(db::ReadLock& read, const std::string& email);
    // Inserts the user; false when the email is already registered (the unique index refused it).
    bool insert(db::WriteTx& tx, const UserRecord& user, std::int64_t created_at_ms);
};

}  // namespace ticketd::auth
