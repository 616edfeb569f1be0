#pragma once
// All SQL on expiration.db: one pending job per reserved order.
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
    void remove(db::WriteTx& tx, const std::string& order_id);
    // Up to `limit` orders whose job is due at `now_ms`, earliest first.
    std::vector<std::string> due(db::WriteTx& tx, std::int64_t now_ms, int limit);
    // When the earliest job is due; none if there is no job.
    std::optional<std::int64_t> next_due(db::ReadLock& read);
    std::int64_t count(db::ReadLock& read);
};

}  // namespace ticketd::expiration
