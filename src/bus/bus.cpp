#include "bus/bus.hpp"

#include <SQLiteCpp/Statement.h>

#include "db/database.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/time_format.hpp"

namespace ticketd::bus {

void Bus::publish_raw(db::WriteTx& tx, std::string_view subject, std::string payload) {
    auto& insert = tx.statement(
        "INSERT INTO outbox (event_id, subject, payload, created_at) VALUES (?, ?, ?, ?)");
    insert.bind(1, util::time_ordered_id());
    insert.bind(2, std::string(subject));
    insert.bind(3, payload);
    insert.bind(4, static_cast<std::int64_t>(util::to_unix_ms(util::SystemClock{}.now())));
    insert.exec();
    db::Database* db = &tx.database();
    // Under the database lock: whoever sees the new rows also finds the bus already busy.
    tx.on_commit_locked([this, db] { outbox_committed(*db); });
}

}  // namespace ticketd::bus
