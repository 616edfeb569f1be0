#include "bus/bus.hpp"

#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "util/clock.hpp"
#include "util/time_format.hpp"

namespace ticketd::bus {

void Bus::publish_raw(db::WriteTx& tx, std::string_view subject, std::string payload) {
    outbox::write(tx, subject, payload, util::to_unix_ms(util::SystemClock{}.now()));
    db::Database* db = &tx.database();
    // Under the database lock: whoever sees the new rows also finds the bus already busy.
    tx.on_commit_locked([this, db] { outbox_committed(*db); });
}

}  // namespace ticketd::bus
