#pragma once
#include <memory>
#include <string_view>

#include "db/database.hpp"

namespace ticketd::test {

// An in-memory database with schema/<name> and the outbox schema applied.
std::unique_ptr<db::Database> memory_db(std::string_view name);

}  // namespace ticketd::test
