#pragma once
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

#include "db/durability.hpp"
#include "util/embedded_file.hpp"

namespace ticketd::db {

// One module's SQLite database: a single connection in WAL mode with a busy timeout and foreign
// keys on, guarded by a mutex so no connection or statement is ever used by two threads at once.
// Every use goes through a WriteTx or a ReadLock, which hold that mutex. File databases are
// checkpointed in the background (see Checkpointer).
class Database {
public:
    // Opens (creating if needed) `path`, or an in-memory database when path is ":memory:".
    // `name` is the schema set applied by migrate() and the name used in logs and metrics.
    Database(std::string name, const std::string& path, Durability durability = Durability::normal);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    const std::string& name() const { return name_; }
    const std::string& path() const { return path_; }

    // Bytes SQLite's page cache holds for this database's connection (at most cache_size, 16 MB).
    std::int64_t cache_bytes();

    // Durability. In `full` mode every commit is on disk when COMMIT returns. In `normal` mode a
    // commit is in the log file but not yet synced: a crash of the process keeps it, a power cut
    // may not. A background thread looks every `sync_within` and syncs the log if anything was
    // committed since, so no acknowledged commit stays exposed to a power cut for much longer than
    // that, busy or quiet; and these two let code that must not run ahead of the disk wait for it:
    static constexpr std::chrono::milliseconds sync_within{250};
    // Blocks until every transaction committed before the call is on disk. Cheap when that holds
    // already (in-memory, `full` mode, nothing new since the last sync); callers arriving
    // together share one fsync. A failed fsync stops the process (see Syncer::fsync_log). Never
    // call it holding this database's WriteTx or ReadLock.
    void sync();
    // Runs `then` once every transaction committed before the call is on disk: at once on the
    // caller's thread if that holds already, otherwise on this database's sync thread (keep it
    // short: hand real work to another thread).
    void when_durable(std::function<void()> then);

    // Applies the migrations of the named schema sets that this file has not seen, all in one
    // transaction: the core's own (bus, outbox) and those among `app_schema`, the application's
    // embedded schema/ files. Throws std::runtime_error if the file was written by a newer schema.
    void migrate(std::initializer_list<std::string_view> schema_sets,
                 std::span<const EmbeddedFile> app_schema = {});

private:
    friend class WriteTx;
    friend class ReadLock;
    SQLite::Statement& statement(std::string_view sql);  // cached; mutex must be held
    // Resets the statements handed out since the last call, ending their implicit read
    // transactions (an unfinished SELECT would otherwise pin a WAL snapshot).
    void reset_statements();

    std::string name_;
    std::string path_;
    std::unique_ptr<SQLite::Database> connection_;
    struct CachedStatement {
        const char* source;  // where the caller's text was: literals keep their address
        std::string text;
        std::unique_ptr<SQLite::Statement> statement;
    };
    std::vector<CachedStatement> statements_;
    std::vector<SQLite::Statement*> in_use_;
    std::mutex mutex_;

    // Checkpoints run on a thread of their own over a second connection, so no request or event
    // handler waits for a checkpoint's fsync while holding this database. SQLite's WAL hook (run
    // after each commit) tells it how large the log has grown.
    class Checkpointer;
    std::unique_ptr<Checkpointer> checkpointer_;
    // Syncs the log on a connection and thread of its own (see sync()); null when every commit
    // is durable at once.
    class Syncer;
    std::unique_ptr<Syncer> syncer_;
};

// Read access: holds the database's mutex. Reads see the last committed state.
class ReadLock {
public:
    explicit ReadLock(Database& db);
    ~ReadLock();
    // A prepared statement for `sql`, reset and with its bindings cleared, cached per database.
    SQLite::Statement& statement(std::string_view sql);
    SQLite::Database& connection();
    Database& database() { return db_; }

private:
    Database& db_;
    std::unique_lock<std::mutex> lock_;
};

// A write transaction: holds the database's mutex and runs BEGIN IMMEDIATE, so writers queue here
// rather than failing later with SQLITE_BUSY. Rolls back unless commit() was called. Callbacks
// registered with on_commit run after a successful COMMIT, after the mutex is released.
class WriteTx {
public:
    explicit WriteTx(Database& db);
    ~WriteTx();
    WriteTx(const WriteTx&) = delete;
    WriteTx& operator=(const WriteTx&) = delete;

    SQLite::Statement& statement(std::string_view sql);
    SQLite::Database& connection();
    Database& database() { return db_; }
    // Runs `sql` (one or more statements without results).
    void exec(std::string_view sql);
    void commit();
    void on_commit(std::function<void()> callback);
    // Like on_commit, but runs right after COMMIT while the database is still locked, so anyone
    // who can see the committed rows also sees the callback's effect. Must not touch this
    // database; for cheap notifications (waking the bus relay).
    void on_commit_locked(std::function<void()> callback);

private:
    Database& db_;
    std::unique_lock<std::mutex> lock_;
    bool open_ = true;
    std::vector<std::function<void()>> on_commit_, on_commit_locked_;
};

// Database::sync() for several databases at once: each is synced by its own sync thread, in
// parallel, and this returns when all are done.
void sync_all(const std::vector<Database*>& dbs);

// The path of database `name` in `data_dir`: data_dir/name.db.
std::string database_path(const std::filesystem::path& data_dir, std::string_view name);

// True when `e` (an SQLite::Exception) is a UNIQUE or PRIMARY KEY constraint violation.
bool is_unique_violation(const std::exception& e);

}  // namespace ticketd::db
