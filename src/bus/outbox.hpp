#pragma once
// The bus's tables inside each module's own database (schema set "outbox"), and all the SQL
// that touches them: the outbox (events written in the transaction of the change they
// announce), the inbox (event ids a subscriber has processed, written in the transaction of
// their effects) and each subscriber's position in the log. Every transport keeps these: they
// are what makes publishing atomic and processing effectively-once, whatever carries the events.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::db {
class Database;
class WriteTx;
}  // namespace ticketd::db

namespace ticketd::bus {

struct OutboxRow {
    std::int64_t id = 0;  // increasing within one database
    std::string event_id;
    std::string subject;
    std::string payload;
    std::int64_t created_at_ms = 0;
};

namespace outbox {

// Writes an event into tx's outbox under a new time-ordered id.
void write(db::WriteTx& tx, std::string_view subject, const std::string& payload,
           std::int64_t now_ms);
// Up to `limit` rows with an id above `after`, in id order.
std::vector<OutboxRow> read(db::Database& db, std::int64_t after, int limit);
// Deletes the rows up to and including id `through`.
void remove_through(db::Database& db, std::int64_t through);
// Rows not yet deleted (metrics).
std::int64_t count(db::Database& db);

}  // namespace outbox

namespace inbox {

// Records that `subscriber` processes `event_id` in tx. False if it had been recorded already:
// a redelivery, to be skipped.
bool record(db::WriteTx& tx, const std::string& subscriber, const std::string& event_id,
            std::int64_t now_ms);
bool contains(db::WriteTx& tx, const std::string& subscriber, const std::string& event_id);
// Deletes up to `limit` rows of `subscriber` for events whose ids sort before `before`.
// Returns how many went.
std::size_t prune(db::Database& db, const std::string& subscriber, const std::string& before,
                  int limit);

}  // namespace inbox

namespace position {

// The position of `subscriber`, recorded as `initial` if it has none yet.
std::int64_t load(db::Database& db, const std::string& subscriber, std::int64_t initial,
                  std::int64_t now_ms);
void save(db::WriteTx& tx, const std::string& subscriber, std::int64_t seq, std::int64_t now_ms);
std::int64_t read(db::Database& db, const std::string& subscriber);  // 0 if unknown

}  // namespace position

}  // namespace ticketd::bus
