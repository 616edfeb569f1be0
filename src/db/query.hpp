#pragma once
// Statements bound by type, for stores: `db::exec(tx, "UPDATE t SET a = ? WHERE id = ?", a, id)`
// instead of a ladder of bind calls. Include from .cpp files only: it pulls in SQLiteCpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <SQLiteCpp/Statement.h>

#include "db/database.hpp"

namespace ticketd::db {
namespace detail {

inline void bind_one(SQLite::Statement& s, int i, const std::string& v) { s.bind(i, v); }
inline void bind_one(SQLite::Statement& s, int i, std::string_view v) { s.bind(i, std::string(v)); }
inline void bind_one(SQLite::Statement& s, int i, const char* v) { s.bind(i, v); }
inline void bind_one(SQLite::Statement& s, int i, const std::optional<std::string>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);  // NULL
}
inline void bind_one(SQLite::Statement& s, int i, const std::optional<std::int64_t>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);  // NULL
}
template <class T>
requires std::is_integral_v<T> &&
    (!std::is_same_v<T, bool>)void bind_one(SQLite::Statement& s, int i, T v) {
    s.bind(i, static_cast<std::int64_t>(v));
}

}  // namespace detail

// The cached statement for `sql` on `tx` (a WriteTx or a ReadLock), with `args` bound in order.
template <class Tx, class... Args>
SQLite::Statement& query(Tx& tx, std::string_view sql, const Args&... args) {
    SQLite::Statement& s = tx.statement(sql);
    int i = 0;
    (detail::bind_one(s, ++i, args), ...);
    return s;
}

// Runs a statement without results in `tx`; returns the number of rows it changed.
template <class... Args>
int exec(WriteTx& tx, std::string_view sql, const Args&... args) {
    return query(tx, sql, args...).exec();
}

}  // namespace ticketd::db
