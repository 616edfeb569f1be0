#include "host/module.hpp"

#include "bus/bus.hpp"
#include "db/database.hpp"

namespace ticketd {

std::unique_ptr<db::Database> ModuleContext::open_database(std::string_view name) const {
    std::string path = config.data_dir == ":memory:" ? std::string(":memory:")
                                                     : db::database_path(config.data_dir, name);
    auto db = std::make_unique<db::Database>(std::string(name), path, config.durability);
    db->migrate({name, "outbox"}, schema);
    bus.attach_outbox(*db);
    return db;
}

}  // namespace ticketd
