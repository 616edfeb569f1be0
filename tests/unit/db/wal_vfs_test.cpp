#include "db/wal_vfs.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <catch2/catch.hpp>

#include "db/database.hpp"
#include "support/test_server.hpp"

using namespace ticketd;

namespace {

void create_blobs(db::Database& db) {
    db::WriteTx tx(db);
    tx.exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL)");
    tx.commit();
}

void insert_blobs(db::WriteTx& tx, int rows, int bytes) {
    tx.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
            std::to_string(rows) + ") INSERT INTO blobs (b) SELECT randomblob(" +
            std::to_string(bytes) + ") FROM n");
}

// What another connection (another process would see the same files) reads.
std::string ask(const std::string& path, const char* sql) {
    SQLite::Database other(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(other, sql);
    q.executeStep();
    return q.getColumn(0).getString();
}

}  // namespace

TEST_CASE(
    "a commit's log frames are written with one call and are visible to other connections at once",
    "[db]") {
    test::TempDir dir;
    auto path = dir.path() + "/probe.db";
    db::Database db("probe", path);
    create_blobs(db);
    for (int commit = 1; commit <= 20; ++commit) {
        auto before = db::wal_write_counts();
        db::WriteTx tx(db);
        insert_blobs(tx, 8, 1000);  // about 3 pages of rows, plus the table's b-tree pages
        tx.commit();
        auto after = db::wal_write_counts();
        INFO("commit " << commit);
        CHECK(after.requested - before.requested >= 4);  // SQLite: header and page, per frame
        // One, or two when the log starts over: its new header is synced before the frames.
        CHECK(after.issued - before.issued <= 2);
        CHECK(ask(path, "SELECT count(*) FROM blobs") == std::to_string(8 * commit));
    }
}

TEST_CASE(
    "a transaction larger than the page cache and the largest single write commits and rolls back "
    "whole",
    "[db]") {
    test::TempDir dir;
    auto path = dir.path() + "/probe.db";
    db::Database db("probe", path);
    create_blobs(db);
    {
        db::WriteTx tx(db);
        tx.exec("PRAGMA cache_size=20");  // pages spill into the log before the commit
        insert_blobs(tx, 600, 2000);      // about 1.2 MB: many writes of at most 128 KiB
        // no commit: rolled back
    }
    CHECK(ask(path, "SELECT count(*) FROM blobs") == "0");
    {
        db::WriteTx tx(db);
        insert_blobs(tx, 600, 2000);
        tx.commit();
    }
    CHECK(ask(path, "SELECT count(*) FROM blobs") == "600");
    CHECK(ask(path, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("every commit survives the process being killed right after it", "[db]") {
    test::TempDir dir;
    auto path = dir.path() + "/probe.db";
    constexpr int commits = 200;
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        try {
            db::Database db("probe", path);
            create_blobs(db);
            for (int i = 0; i < commits; ++i) {
                db::WriteTx tx(db);
                insert_blobs(tx, 1 + i % 5, 700);
                tx.commit();
            }
            std::raise(SIGKILL);  // no close, no checkpoint: only what reached the files
        } catch (...) {
        }
        _exit(3);
    }
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    int expected_rows = 0;
    for (int i = 0; i < commits; ++i) expected_rows += 1 + i % 5;
    CHECK(ask(path, "SELECT count(*) FROM blobs") == std::to_string(expected_rows));
    CHECK(ask(path, "PRAGMA integrity_check") == "ok");
}
