#include "support/db_query.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

namespace ticketd::test {

std::int64_t query_int(db::Database& db, const std::string& sql) {
    db::ReadLock read(db);
    auto& q = read.statement(sql);
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

std::string query_text(db::Database& db, const std::string& sql) {
    db::ReadLock read(db);
    auto& q = read.statement(sql);
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

}  // namespace ticketd::test
