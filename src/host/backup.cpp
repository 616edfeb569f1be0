#include "host/backup.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "util/log.hpp"

namespace ticketd {
namespace fs = std::filesystem;
namespace {

struct Connection {
    sqlite3* db = nullptr;
    ~Connection() {
        if (db) sqlite3_close_v2(db);
    }
};

std::unique_ptr<Connection> open(const std::string& path, int flags) {
    auto c = std::make_unique<Connection>();
    if (sqlite3_open_v2(path.c_str(), &c->db, flags, nullptr) != SQLITE_OK)
        throw std::runtime_error("cannot open " + path + ": " + sqlite3_errmsg(c->db));
    sqlite3_busy_timeout(c->db, 30000);
    return c;
}

void exec(Connection& c, const char* sql, const std::string& what) {
    char* err = nullptr;
    if (sqlite3_exec(c.db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string message = err ? err : "unknown error";
        sqlite3_free(err);
        throw std::runtime_error(what + ": " + message);
    }
}

void copy(Connection& from, const std::string& to_path) {
    auto to = open(to_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3_backup* b = sqlite3_backup_init(to->db, "main", from.db, "main");
    if (!b) throw std::runtime_error("backup of " + to_path + " failed: " + sqlite3_errmsg(to->db));
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        throw std::runtime_error("backup of " + to_path + " failed: " + sqlite3_errstr(rc));
}

void check(const std::string& path) {
    auto c = open(path, SQLITE_OPEN_READONLY);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(c->db, "PRAGMA integrity_check", -1, &stmt, nullptr);
    std::string result = sqlite3_step(stmt) == SQLITE_ROW
                             ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))
                             : "no answer";
    sqlite3_finalize(stmt);
    if (result != "ok")
        throw std::runtime_error("integrity check of " + path + " failed: " + result);
}

void require_no_databases(const std::string& dir, const std::vector<std::string>& databases) {
    for (const auto& name : databases)
        if (fs::exists(fs::path(dir) / (name + ".db")))
            throw std::runtime_error(dir + " already holds " + name +
                                     ".db; choose an empty directory");
}

}  // namespace

void backup_data_dir(const std::string& data_dir, const std::string& dest_dir,
                     const std::vector<std::string>& databases) {
    fs::create_directories(dest_dir);
    require_no_databases(dest_dir, databases);
    struct Source {
        std::string name;
        std::unique_ptr<Connection> locker, reader;
    };
    std::vector<Source> sources;
    for (const auto& name : databases) {
        auto path = (fs::path(data_dir) / (name + ".db")).string();
        if (!fs::exists(path)) continue;
        sources.push_back(
            {name, open(path, SQLITE_OPEN_READWRITE), open(path, SQLITE_OPEN_READONLY)});
    }
    if (sources.empty()) throw std::runtime_error("no databases in " + data_dir);
    // Hold the write lock of every database, in a fixed order, while a second connection copies
    // it (in WAL mode readers are not blocked by a writer). The server never holds two write
    // locks at once, so this cannot deadlock with it; its writers only wait.
    for (auto& s : sources) exec(*s.locker, "BEGIN IMMEDIATE", "locking " + s.name + ".db");
    try {
        for (auto& s : sources) copy(*s.reader, (fs::path(dest_dir) / (s.name + ".db")).string());
    } catch (...) {
        for (auto& s : sources) sqlite3_exec(s.locker->db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    for (auto& s : sources) exec(*s.locker, "ROLLBACK", "unlocking " + s.name + ".db");
    for (auto& s : sources) check((fs::path(dest_dir) / (s.name + ".db")).string());
    auto key = fs::path(data_dir) / "jwt.key";
    if (fs::exists(key))
        fs::copy_file(key, fs::path(dest_dir) / "jwt.key", fs::copy_options::overwrite_existing);
    log::info(
        "backup complete",
        {{"from", data_dir}, {"to", dest_dir}, {"databases", std::to_string(sources.size())}});
}

void restore_data_dir(const std::string& backup_dir, const std::string& data_dir,
                      const std::vector<std::string>& databases) {
    fs::create_directories(data_dir);
    require_no_databases(data_dir, databases);
    int restored = 0;
    for (const auto& name : databases) {
        auto from = fs::path(backup_dir) / (name + ".db");
        if (!fs::exists(from)) continue;
        check(from.string());
        auto source = open(from.string(), SQLITE_OPEN_READONLY);
        copy(*source, (fs::path(data_dir) / (name + ".db")).string());
        ++restored;
    }
    if (restored == 0) throw std::runtime_error("no databases in " + backup_dir);
    auto key = fs::path(backup_dir) / "jwt.key";
    if (fs::exists(key)) {
        fs::copy_file(key, fs::path(data_dir) / "jwt.key", fs::copy_options::overwrite_existing);
        fs::permissions(fs::path(data_dir) / "jwt.key",
                        fs::perms::owner_read | fs::perms::owner_write);
    }
    log::info("restore complete", {{"from", backup_dir}, {"to", data_dir}});
}

}  // namespace ticketd
