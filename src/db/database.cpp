#include "db/database.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>

#include "db/migrations.hpp"
#include "db/wal_vfs.hpp"
#include "util/log.hpp"
#include "util/thread_name.hpp"

namespace ticketd::db {
namespace {

// Process-wide SQLite settings, applied before the library initializes (later calls are
// refused by SQLite and ignored here). Every connection is used under our own mutex, so
// SQLite's per-connection mutexes are not needed; memory statistics would take a global
// mutex on every allocation, which the bus threads and HTTP threads then contend for.
void configure_sqlite_once() {
    static const bool done = [] {
        sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        install_wal_vfs();
        return true;
    }();
    (void)done;
}

}  // namespace

class Database::Checkpointer {
public:
    // A PASSIVE checkpoint each time the log has grown by this many pages since the last one
    // (SQLite's own default threshold)...
    static constexpr int threshold_pages = 1000;
    // ...and once it holds this many, the log is made to start over (see finish_in_writer).
    static constexpr int restart_pages = 4 * threshold_pages;
    static constexpr std::chrono::seconds leftovers_within{1};

    Checkpointer(const std::string& path, const std::string& name) : path_(path), name_(name) {
        thread_ = std::thread([this] { run(); });
    }
    ~Checkpointer() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    // From the WAL hook, under the database's mutex: cheap, never blocks on I/O. True when the
    // committing thread should now copy the log's tail itself (see finish_in_writer).
    bool log_grew(int pages) {
        bool wake = false, tail = false;
        {
            std::lock_guard lock(mutex_);
            if (pages < copied_through_) copied_through_ = 0;  // the log has started over since
            log_pages_ = pages;
            tail = std::exchange(tail_due_, false);
            if (!tail && !due_ && pages - copied_through_ >= threshold_pages) wake = due_ = true;
        }
        if (wake) cv_.notify_one();
        return tail;
    }

    // The log starts again from its beginning only if a write transaction begins with every
    // frame copied. Under steady writes some always land while this thread's copy runs, so the
    // log would grow until the writers' backstop. So once it is long and this thread has copied
    // most of it, the next committing thread, which holds the database's mutex anyway, copies the
    // few frames committed meanwhile (a few ms, fsyncs included) and the writer after it starts
    // the log over. Taking the mutex here instead would not do: a busy writer re-takes it at
    // once, and this thread waited up to 280 ms for it under load.
    static void finish_in_writer(sqlite3* handle, const char* schema) {
        sqlite3_wal_checkpoint_v2(handle, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }

private:
    void run() {
        util::name_this_thread("ckpt-" + name_);
        std::unique_lock lock(mutex_);
        for (;;) {
            auto woken = [this] { return stopping_ || due_; };
            // Frames the passes left behind (fewer than a threshold) are copied within a second,
            // so a log whose writes stopped is folded into the file; with none left the thread
            // sleeps until the log grows.
            if (log_pages_ > copied_through_) {
                if (!cv_.wait_for(lock, leftovers_within, woken)) due_ = true;
            } else {
                cv_.wait(lock, woken);
            }
            if (stopping_) return;
            lock.unlock();
            // PASSIVE: copies what no reader still needs, without blocking writers or readers.
            if (!connection_) {  // opened on first use: an idle server never needs it
                try {
                    connection_.emplace(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
                    connection_->setBusyTimeout(5000);
                } catch (const std::exception& e) {
                    // The writers' own backstop checkpoints keep the log bounded meanwhile.
                    log::warn("cannot open a checkpoint connection",
                              {{"db", name_}, {"error", e.what()}});
                    connection_.reset();
                    lock.lock();
                    due_ = false;
                    continue;
                }
            }
            int log_pages = 0, copied = 0;
            int rc = sqlite3_exec(connection_->getHandle(), "SELECT 1 FROM sqlite_master LIMIT 1",
                                  nullptr, nullptr,
                                  nullptr);  // a read first: a connection that has read nothing
                                             // does not know the file is in WAL mode yet
            if (rc == SQLITE_OK)
                rc = sqlite3_wal_checkpoint_v2(connection_->getHandle(), nullptr,
                                               SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied);
            if (rc != SQLITE_OK && rc != SQLITE_BUSY)
                log::warn("checkpoint failed", {{"db", name_}, {"error", sqlite3_errstr(rc)}});
            lock.lock();
            // due_ stayed set while copying, so commits meanwhile did not queue another pass; go
            // again at once if they added a threshold's worth (the writes may have stopped).
            if (rc == SQLITE_OK) {
                copied_through_ = log_pages;
                if (log_pages >= restart_pages) tail_due_ = true;
            }
            due_ = rc == SQLITE_OK && log_pages_ - copied_through_ >= threshold_pages;
        }
    }

    std::string path_;
    std::string name_;
    std::optional<SQLite::Database> connection_;  // used only by the thread
    std::mutex mutex_;
    std::condition_variable cv_;
    bool due_ = false;       // a pass is wanted or running
    bool tail_due_ = false;  // the next commit copies the log's tail (finish_in_writer)
    bool stopping_ = false;
    int copied_through_ = 0;  // frames of the log the last pass had copied
    int log_pages_ = 0;       // frames in the log at the last commit
    std::thread thread_;
};

// The log's fsync, apart from commits and checkpoints. It holds a connection of its own, used
// only to reach the log file through SQLite's VFS (so a test VFS sees every sync); fsync on any
// handle of a file makes all of the file's written data durable, whichever handle wrote it.
class Database::Syncer {
public:
    Syncer(const std::string& path, const std::string& name) : path_(path), name_(name) {
        thread_ = std::thread([this] { run(); });
    }
    ~Syncer() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

    // From the WAL hook, after each commit, under the database's mutex: one atomic increment
    // and nothing else (no lock, no wake-up), since every commit pays it. The thread looks every
    // sync_within.
    void committed() { commits_.fetch_add(1, std::memory_order_release); }

    void sync() {
        // Every commit counted before this load has written its frames: an fsync that starts
        // afterwards covers them.
        std::uint64_t target = commits_.load(std::memory_order_acquire);
        {
            std::lock_guard lock(mutex_);
            if (synced_ >= target) return;
        }
        std::lock_guard one_at_a_time(sync_mutex_);
        std::uint64_t covered = commits_.load(std::memory_order_acquire);
        {
            std::lock_guard lock(mutex_);
            if (synced_ >= target) return;  // another caller's fsync covered it meanwhile
        }
        fsync_log();
        std::lock_guard lock(mutex_);
        synced_ = std::max(synced_, covered);
        if (!waiters_.empty()) cv_.notify_one();
    }

    void when_durable(std::function<void()> then) {
        auto target = commits_.load(std::memory_order_acquire);
        {
            std::lock_guard lock(mutex_);
            if (synced_ < target) {
                waiters_.push_back({target, std::move(then)});
                cv_.notify_one();
                return;
            }
        }
        then();
    }

private:
    using Clock = std::chrono::steady_clock;
    struct Waiter {
        std::uint64_t target;
        std::function<void()> then;
    };

    // A failed fsync is fatal. After an I/O error Linux may drop the dirty pages and report the
    // next fsync as a success, so retrying could call lost commits durable; stopping instead
    // leaves the truth to what is on disk, which the next start recovers from (as PostgreSQL
    // does since "fsyncgate").
    void fsync_log() {
        int rc = SQLITE_OK;
        try {
            if (!connection_) {
                connection_.emplace(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
                connection_->setBusyTimeout(5000);
            }
            // A read first: a connection that has read nothing has not opened the log yet.
            rc = sqlite3_exec(connection_->getHandle(), "SELECT 1 FROM sqlite_master LIMIT 1",
                              nullptr, nullptr, nullptr);
        } catch (const std::exception& e) {
            log::error("cannot open a connection to sync the log; stopping",
                       {{"db", name_}, {"error", e.what()}});
            std::abort();
        }
        sqlite3_file* log = nullptr;
        if (rc == SQLITE_OK)
            rc = sqlite3_file_control(connection_->getHandle(), "main",
                                      SQLITE_FCNTL_JOURNAL_POINTER, &log);
        if (rc == SQLITE_OK && !(log && log->pMethods)) rc = SQLITE_IOERR_FSYNC;  // no log to sync
        // Data only (fdatasync): the log's contents and size, without its timestamps, which would
        // cost a file-system journal commit per sync.
        if (rc == SQLITE_OK)
            rc = log->pMethods->xSync(log, SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY);
        if (rc != SQLITE_OK) {
            log::error("cannot sync the database log; stopping",
                       {{"db", name_}, {"error", sqlite3_errstr(rc)}});
            std::abort();
        }
    }

    // Syncs when a waiter needs it, and every sync_within when something was committed since.
    void run() {
        util::name_this_thread("sync-" + name_);
        std::unique_lock lock(mutex_);
        auto next_look = Clock::now() + sync_within;
        for (;;) {
            auto due = [&] { return stopping_ || !waiters_.empty() || Clock::now() >= next_look; };
            while (!due()) cv_.wait_until(lock, next_look);
            bool stopping = stopping_;
            if (Clock::now() >= next_look) next_look = Clock::now() + sync_within;
            if (synced_ < commits_.load(std::memory_order_acquire)) {
                lock.unlock();
                sync();
                lock.lock();
            }
            // At the end every waiter runs, so none is left holding a request that waits.
            std::vector<std::function<void()>> due_now;
            std::erase_if(waiters_, [&](Waiter& w) {
                if (w.target > synced_ && !stopping) return false;
                due_now.push_back(std::move(w.then));
                return true;
            });
            if (!due_now.empty()) {
                lock.unlock();
                for (auto& then : due_now) then();
                lock.lock();
            }
            if (stopping) return;
        }
    }

    std::string path_;
    std::string name_;
    std::optional<SQLite::Database> connection_;  // used under sync_mutex_ only
    std::mutex sync_mutex_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<std::uint64_t> commits_{0};  // commits since open, counted by the WAL hook
    std::uint64_t synced_ = 0;               // commits known to be on disk (under mutex_)
    std::vector<Waiter> waiters_;
    bool stopping_ = false;
    std::thread thread_;
};

Database::Database(std::string name, const std::string& path, Durability durability)
    : name_(std::move(name)), path_(path) {
    configure_sqlite_once();
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
    if (path != ":memory:") {
        connection_->exec("PRAGMA wal_autocheckpoint=0");
        checkpointer_ = std::make_unique<Checkpointer>(path, name_);
        if (durability == Durability::normal) syncer_ = std::make_unique<Syncer>(path, name_);
        sqlite3_wal_hook(
            connection_->getHandle(),
            [](void* context, sqlite3* handle, const char* schema, int pages) {
                auto* self = static_cast<Database*>(context);
                if (self->syncer_) self->syncer_->committed();
                if (self->checkpointer_->log_grew(pages))
                    Checkpointer::finish_in_writer(handle, schema);
                // Backstop: if writers outrun the background thread, the committing thread
                // checkpoints itself, as SQLite would by default, so the log stays bounded.
                else if (pages >= 8 * Checkpointer::threshold_pages)
                    sqlite3_wal_checkpoint_v2(handle, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                              nullptr);
                return SQLITE_OK;
            },
            this);
    }
}

Database::~Database() {
    if (checkpointer_) sqlite3_wal_hook(connection_->getHandle(), nullptr, nullptr);
    syncer_.reset();  // a last sync, and every waiter runs
    checkpointer_.reset();
    statements_.clear();  // statements must be finalized before the connection closes
    try {
        if (connection_ && path_ != ":memory:") connection_->exec("PRAGMA optimize");
    } catch (const std::exception&) {
        // closing anyway
    }
}

void Database::sync() {
    if (syncer_) syncer_->sync();
}

void Database::when_durable(std::function<void()> then) {
    if (syncer_)
        syncer_->when_durable(std::move(then));
    else
        then();
}

std::int64_t Database::cache_bytes() {
    std::lock_guard lock(mutex_);
    int used = 0, highwater = 0;
    sqlite3_db_status(connection_->getHandle(), SQLITE_DBSTATUS_CACHE_USED, &used, &highwater, 0);
    return used;
}

SQLite::Statement& Database::statement(std::string_view sql) {
    auto use = [this](SQLite::Statement& stmt) -> SQLite::Statement& {
        // tryReset: reset() would rethrow the error of the statement's last failed step.
        stmt.tryReset();
        stmt.clearBindings();
        in_use_.push_back(&stmt);
        return stmt;
    };
    // Callers pass string literals, so the same text almost always comes from the same address:
    // look for that first (one comparison confirms it), then compare texts.
    for (auto& cached : statements_)
        if (cached.source == sql.data() && cached.text == sql) return use(*cached.statement);
    for (auto& cached : statements_)
        if (cached.text == sql) return use(*cached.statement);
    auto stmt = std::make_unique<SQLite::Statement>(*connection_, std::string(sql));
    statements_.push_back({sql.data(), std::string(sql), std::move(stmt)});
    return use(*statements_.back().statement);
}

void Database::reset_statements() {
    for (auto* stmt : in_use_) stmt->tryReset();
    in_use_.clear();
}

void Database::migrate(std::initializer_list<std::string_view> schema_sets,
                       std::span<const EmbeddedFile> app_schema) {
    WriteTx tx(*this);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " schema_set TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
        " PRIMARY KEY (schema_set, version))");
    for (std::string_view set : schema_sets) {
        auto migrations = migrations_for(set, app_schema);
        int known = migrations.empty() ? 0 : migrations.back().version;
        auto& q = tx.statement(
            "SELECT coalesce(max(version), 0) FROM schema_migrations WHERE schema_set = ?");
        q.bind(1, std::string(set));
        q.executeStep();
        int applied = q.getColumn(0).getInt();
        q.tryReset();  // an unfinished SELECT would make a migration's DROP TABLE fail
                       // (SQLITE_LOCKED)
        if (applied > known)
            throw std::runtime_error("database " + path_ + " has schema " + std::string(set) +
                                     " version " + std::to_string(applied) +
                                     ", newer than this binary knows (" + std::to_string(known) +
                                     "); upgrade the program");
        for (const auto& m : migrations) {
            if (m.version <= applied) continue;
            tx.exec(m.sql);
            auto& ins = tx.statement(
                "INSERT INTO schema_migrations (schema_set, version, name) VALUES (?, ?, ?)");
            ins.bind(1, m.set);
            ins.bind(2, m.version);
            ins.bind(3, m.name);
            ins.exec();
            log::info("migration applied", {{"db", name_},
                                            {"set", m.set},
                                            {"version", std::to_string(m.version)},
                                            {"name", m.name}});
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

void WriteTx::on_commit(std::function<void()> callback) {
    on_commit_.push_back(std::move(callback));
}
void WriteTx::on_commit_locked(std::function<void()> callback) {
    on_commit_locked_.push_back(std::move(callback));
}

void sync_all(const std::vector<Database*>& dbs) {
    if (dbs.empty()) return;
    // The first is synced on this thread, the others meanwhile on their own sync threads: under
    // load each hand-over to another thread can wait for a CPU longer than an fsync takes.
    std::mutex m;
    std::condition_variable cv;
    std::size_t left = dbs.size() - 1;
    for (std::size_t i = 1; i < dbs.size(); ++i)
        dbs[i]->when_durable([&] {
            std::lock_guard lock(m);
            if (--left == 0) cv.notify_one();
        });
    dbs.front()->sync();
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return left == 0; });
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
