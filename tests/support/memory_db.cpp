#include "support/memory_db.hpp"

namespace ticketd::test {

std::unique_ptr<db::Database> memory_db(std::string_view name) {
    auto db = std::make_unique<db::Database>(std::string(name), ":memory:");
    if (name == "bus")
        db->migrate({"bus"});
    else
        db->migrate({name, "outbox"});
    return db;
}

}  // namespace ticketd::test
