#include "db/database.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <stdexcept>

#include "db/migrations.hpp"
#include "util/log.hpp"

namespace ticketd::db {

Database::Database(std::string name, const std::string& path, Durability durability)
    : name_(std::move(name)), path_(path) {
    connection_ = std::make_unique<SQLite::Database>(
        // NOMUTEX: our own mutex already serializes every use of the connection.
        path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX);
    connection_->setBusyTimeout(5000);
    if (path != ":memory:") connection_->exec("PRAGMA journal_mode=WAL");
    connection_->exec(durability == Durability::full ? "PRAGMA synchronous=FULL"
                                                     : "PRAGMA synchronous=NORMAL");
    connection_->exec("PRAGMA foreign_keys=ON");
    connection_->exec("PRAGMA temp_store=MEMORY");
    // Reads through a memory map instead of pread copies, and a page cache that holds the hot
    // indexes (inbox, event log); both grow only as far as the data does.
    connection_->exec("PRAGMA mmap_size=268435456");
    connection_->exec("PRAGMA cache_size=-16000");
}

Database::~Database() {
    statements_.clear();  // statements must be finalized before the connection closes
    try {
        if (connection_ && path_ != ":memory:") connection_->exec("PRAGMA optimize");
    } catch (const std::exception&) {
        // closing anyway
    }
}

SQLite::Statement& Database::statement(std::string_view sql) {
    for (auto& [text, stmt] : statements_) {
        if (text == sql) {
            // tryReset: reset() would rethrow the error of the statement's last failed step.
            stmt->tryReset();
            stmt->clearBindings();
            in_use_.push_back(stmt.get());
            return *stmt;
        }
    }
    auto stmt = std::make_unique<SQLite::Statement>(*connection_, std::string(sql));
    statements_.emplace_back(std::string(sql), std::move(stmt));
    in_use_.push_back(statements_.back().second.get());
    return *statements_.back().second;
}

void Database::reset_statements() {
    for (auto* stmt : in_use_) stmt->tryReset();
    in_use_.clear();
}

void Database::migrate(std::initializer_list<std::string_view> schema_sets) {
    WriteTx tx(*this);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " schema_set TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
        " PRIMARY KEY (schema_set, version))");
    for (std::string_view set : schema_sets) {
        auto migrations = migrations_for(set);
        int known = migrations.empty() ? 0 : migrations.back().version;
        auto& q = tx.statement("SELECT coalesce(max(version), 0) FROM schema_migrations WHERE schema_set = ?");
        q.bind(1, std::string(set));
        q.executeStep();
        int applied = q.getColumn(0).getInt();
        if (applied > known)
            throw std::runtime_error("database " + path_ + " has schema " + std::string(set) +
                                     " version " + std::to_string(applied) +
                                     ", newer than this binary knows (" + std::to_string(known) +
                                     "); upgrade ticketd");
        for (const auto& m : migrations) {
            if (m.version <= applied) continue;
            tx.exec(m.sql);
            auto& ins = tx.statement("INSERT INTO schema_migrations (schema_set, version, name) VALUES (?, ?, ?)");
            ins.bind(1, m.set);
            ins.bind(2, m.version);
            ins.bind(3, m.name);
            ins.exec();
            log::info("migration applied", {{"db", name_}, {"set", m.set},
                                             {"version", std::to_string(m.version)}, {"name", m.name}});
        }
    }
    tx.commit();
}

ReadLock::ReadLock(Database& db) : db_(db), lock_(db.mutex_) {}
ReadLock::~ReadLock() { db_.reset_statements(); }
SQLite::Statement& ReadLock::statement(std::string_view sql) { return db_.statement(sql); }
SQLite::Database& ReadLock::connection() { return *db_.connection_; }

WriteTx::WriteTx(Database& db) : db_(db), lock_(db.mutex_) {
    db_.connection_->exec("BEGIN IMMEDIATE");
}

WriteTx::~WriteTx() {
    if (!open_) return;
    db_.reset_statements();
    try {
        db_.connection_->exec("ROLLBACK");
    } catch (const std::exception& e) {
        log::error("rollback failed", {{"db", db_.name_}, {"error", e.what()}});
    }
}

SQLite::Statement& WriteTx::statement(std::string_view sql) { return db_.statement(sql); }
SQLite::Database& WriteTx::connection() { return *db_.connection_; }
void WriteTx::exec(std::string_view sql) { db_.connection_->exec(std::string(sql)); }

void WriteTx::commit() {
    db_.reset_statements();
    db_.connection_->exec("COMMIT");
    open_ = false;
    for (auto& cb : on_commit_locked_) cb();
    lock_.unlock();
    auto callbacks = std::move(on_commit_);
    for (auto& cb : callbacks) cb();
}

void WriteTx::on_commit(std::function<void()> callback) { on_commit_.push_back(std::move(callback)); }
void WriteTx::on_commit_locked(std::function<void()> callback) {
    on_commit_locked_.push_back(std::move(callback));
}

WriteTx::Savepoint::Savepoint(WriteTx& tx) : tx_(tx) { tx_.statement("SAVEPOINT sp").exec(); }

WriteTx::Savepoint::~Savepoint() {
    if (done_) return;
    try {
        rollback();
    } catch (const std::exception& e) {
        log::error("savepoint rollback failed", {{"error", e.what()}});
    }
}

void WriteTx::Savepoint::release() {
    tx_.statement("RELEASE sp").exec();
    done_ = true;
}

void WriteTx::Savepoint::rollback() {
    done_ = true;
    tx_.exec("ROLLBACK TO sp");
    tx_.exec("RELEASE sp");
}

std::string database_path(const std::filesystem::path& data_dir, std::string_view name) {
    return (data_dir / (std::string(name) + ".db")).string();
}

bool is_unique_violation(const std::exception& e) {
    auto* se = dynamic_cast<const SQLite::Exception*>(&e);
    if (!se) return false;
    int code = se->getExtendedErrorCode();
    return code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY;
}

}  // namespace ticketd::db
