#pragma once
#include <cstdint>
#include <string>

#include "db/database.hpp"

namespace ticketd::test {

// The first column of the first row of `sql` as an integer (counts in assertions).
std::int64_t query_int(db::Database& db, const std::string& sql);
// The first column of the first row of `sql` as text ("" when there is no row).
std::string query_text(db::Database& db, const std::string& sql);

}  // namespace ticketd::test
