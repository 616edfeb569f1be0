#pragma once
// All SQL on expiration.db: one pending job per reserved order.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_expiration)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ticketd::db {
class ReadLock;
class WriteTx;
}  // namespace ticketd::db

namespace ticketd::expiration {

class JobStore {
public:
    // Adds the job of `order_id`, due at `due_ms`; a second add of the same order is a no-op.
    void add(db::WriteTx& tx, const std::string& order_id, std::int64_t due_ms);
    // Removes the job of `order_id`; false if it had none.
    bool remove(db::WriteTx& tx, const std::string& order_id);
    // Remembers that `order_id` ended (cancelled or paid) while it had no job, for a day.
    void remember_ended(db::WriteTx& tx, const std::string& order_id, std::int64_t now_ms);
    // True, and forgotten, if `order_id` ended before its job was added.
    bool take_ended(db::WriteTx& tx, const std::string& order_id);
    // Up to `limit` orders whose job is due at `now_ms`, earliest first.
    std::vector<std::string> due(db::WriteTx& tx, std::int64_t now_ms, int limit);
    // When the earliest job is due; none if there is no job.
    std::optional<std::int64_t> next_due(db::ReadLock& read);
    std::int64_t count(db::ReadLock& read);
};

}  // namespace ticketd::expiration
