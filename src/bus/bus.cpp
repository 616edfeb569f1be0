#include "bus/bus.hpp"

#include <stdexcept>

#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "util/clock.hpp"
#include "util/time_format.hpp"

namespace ticketd::bus {

void Bus::publish_raw(db::WriteTx& tx, std::string_view subject, std::string payload) {
    outbox::write(tx, subject, payload, util::unix_now_ms());
    db::Database* db = &tx.database();
    // Under the database lock: whoever sees the new rows also finds the bus already busy.
    tx.on_commit_locked([this, db] { outbox_committed(*db); });
}

void Bus::declare(std::string_view subject, std::string_view module) {
    publishers_.emplace_back(std::string(subject), std::string(module));
}

void Bus::check_declared(db::WriteTx& tx, std::string_view subject) const {
    if (publishers_.empty()) return;  // nothing declared: a bare bus (tests, tools)
    const std::string& module = tx.database().name();
    for (const auto& [s, m] : publishers_)
        if (s == subject && m == module) return;
    throw std::logic_error(module + " publishes " + std::string(subject) +
                           " without declaring it: add bus.publishes<E>(\"" + module +
                           "\") to its add_listeners");
}

}  // namespace ticketd::bus
