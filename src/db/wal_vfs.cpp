#include "db/wal_vfs.hpp"

#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "util/log.hpp"

namespace ticketd::db {
namespace {

// A log is only written through the connection that holds SQLite's write lock, from one thread
// at a time (each connection is used under its Database's mutex, or by one thread only), so the
// per-file state below needs no locking of its own.
struct File {
    sqlite3_file base;             // first: SQLite sees this struct as its sqlite3_file
    sqlite3_file* real;            // the unix VFS's file, in the same allocation, after this struct
    File* log = nullptr;           // a database file: its connection's log, when that buffers
    File* database = nullptr;      // a log: the database file it belongs to
    bool buffers = false;          // a log whose writes are gathered
    bool commit_header = false;    // the last write was the header of a commit frame
    sqlite3_int64 pending_at = 0;  // file offset of pending[0]
    std::vector<char> pending;     // written by SQLite, not yet by us: consecutive bytes
};

constexpr std::size_t real_offset = (sizeof(File) + 15) & ~std::size_t{15};
constexpr int frame_header_bytes = 24;  // WAL frame header: page number, then "database size
                                        // after commit" (non-zero only in a commit frame), ...
// The unix VFS writes at most 0x1ffff bytes a call (it masks the length to 17 bits and reports a
// shorter write as a full disk), so a large commit is written in pieces of up to 31 frames.
constexpr std::size_t max_write_bytes = 0x1ffff;

sqlite3_vfs* unix_vfs = nullptr;
sqlite3_vfs wal_vfs;
std::array<sqlite3_io_methods, 3> methods;  // one table per io-methods version of the real file
std::atomic<std::uint64_t> writes_requested{0};
std::atomic<std::uint64_t> writes_issued{0};

File* self(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
bool is_ours(const sqlite3_file* f) {
    return f && f->pMethods >= methods.data() && f->pMethods < methods.data() + methods.size();
}

int flush(File& f) {
    if (f.pending.empty()) return SQLITE_OK;
    writes_issued.fetch_add(1, std::memory_order_relaxed);
    int rc = f.real->pMethods->xWrite(f.real, f.pending.data(), static_cast<int>(f.pending.size()),
                                      f.pending_at);
    f.pending.clear();
    f.commit_header = false;
    return rc;
}

// Before another connection can be told of a commit, its frames must be in the file. The commit
// frame flushes them itself (write() below, which can report an error); this is the fallback for
// a SQLite that frames its writes differently, where an error can no longer be reported: stopping
// the process is then the only way not to publish frames that are not in the file.
void flush_before_publishing(File& database) {
    if (!database.log || database.log->pending.empty()) return;
    if (int rc = flush(*database.log); rc != SQLITE_OK) {
        log::error("cannot write the database log; stopping", {{"error", sqlite3_errstr(rc)}});
        std::abort();
    }
}

int x_close(sqlite3_file* file) {
    File& f = *self(file);
    int rc = flush(f);
    if (f.database) f.database->log = nullptr;
    if (f.log) f.log->database = nullptr, f.log->buffers = false;
    int closed = f.real->pMethods->xClose(f.real);
    f.~File();
    return rc != SQLITE_OK ? rc : closed;
}

int x_write(sqlite3_file* file, const void* data, int n, sqlite3_int64 offset) {
    File& f = *self(file);
    writes_requested.fetch_add(1, std::memory_order_relaxed);
    if (!f.buffers || static_cast<std::size_t>(n) > max_write_bytes) {
        if (int rc = flush(f); rc != SQLITE_OK) return rc;
        writes_issued.fetch_add(1, std::memory_order_relaxed);
        return f.real->pMethods->xWrite(f.real, data, n, offset);
    }
    bool follows = offset == f.pending_at + static_cast<sqlite3_int64>(f.pending.size());
    if (!f.pending.empty() &&
        (!follows || f.pending.size() + static_cast<std::size_t>(n) > max_write_bytes))
        if (int rc = flush(f); rc != SQLITE_OK) return rc;
    if (f.pending.empty()) f.pending_at = offset;
    auto* bytes = static_cast<const char*>(data);
    try {
        f.pending.reserve(max_write_bytes);  // once per log: insert below then never allocates
    } catch (const std::bad_alloc&) {
        return SQLITE_IOERR_NOMEM;
    }
    f.pending.insert(f.pending.end(), bytes, bytes + n);
    // The write after a commit frame's header is that frame's page: the commit is complete.
    bool ends_commit = f.commit_header;
    f.commit_header = n == frame_header_bytes && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
    if (ends_commit) return flush(f);
    return SQLITE_OK;
}

// Every other operation on a log sees the file as SQLite wrote it.
template <auto Method, typename... Args>
int flushed(sqlite3_file* file, Args... args) {
    File& f = *self(file);
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    return (f.real->pMethods->*Method)(f.real, args...);
}

template <auto Method, typename... Args>
auto passed(sqlite3_file* file, Args... args) {
    File& f = *self(file);
    return (f.real->pMethods->*Method)(f.real, args...);
}

int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
    flush_before_publishing(*self(file));
    return passed<&sqlite3_io_methods::xShmLock>(file, offset, n, flags);
}

void x_shm_barrier(sqlite3_file* file) {
    flush_before_publishing(*self(file));  // SQLite calls this before it publishes a commit
    passed<&sqlite3_io_methods::xShmBarrier>(file);
}

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
    File& f = *new (file) File{};
    f.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + real_offset);
    f.real->pMethods = nullptr;
    int rc = unix_vfs->xOpen(unix_vfs, name, f.real, flags, out_flags);
    if (rc != SQLITE_OK || !f.real->pMethods) {
        if (f.real->pMethods) f.real->pMethods->xClose(f.real);
        f.~File();
        file->pMethods = nullptr;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    int version = f.real->pMethods->iVersion;
    file->pMethods = &methods[static_cast<std::size_t>(version < 1   ? 1
                                                       : version > 3 ? 3
                                                                     : version) -
                              1];
    if (flags & SQLITE_OPEN_WAL) {
        // Gather writes only when the database file's shared-memory calls can flush them.
        sqlite3_file* database = sqlite3_database_file_object(name);
        if (is_ours(database) && self(database)->base.pMethods->iVersion >= 2) {
            f.database = self(database);
            f.database->log = &f;
            f.buffers = true;
        }
    }
    return SQLITE_OK;
}

void build_methods() {
    for (int version = 1; version <= 3; ++version) {
        sqlite3_io_methods& m = methods[static_cast<std::size_t>(version) - 1];
        m = {};
        m.iVersion = version;
        m.xClose = x_close;
        m.xRead = flushed<&sqlite3_io_methods::xRead, void*, int, sqlite3_int64>;
        m.xWrite = x_write;
        m.xTruncate = flushed<&sqlite3_io_methods::xTruncate, sqlite3_int64>;
        m.xSync = flushed<&sqlite3_io_methods::xSync, int>;
        m.xFileSize = flushed<&sqlite3_io_methods::xFileSize, sqlite3_int64*>;
        m.xLock = passed<&sqlite3_io_methods::xLock, int>;
        m.xUnlock = passed<&sqlite3_io_methods::xUnlock, int>;
        m.xCheckReservedLock = passed<&sqlite3_io_methods::xCheckReservedLock, int*>;
        m.xFileControl = flushed<&sqlite3_io_methods::xFileControl, int, void*>;
        m.xSectorSize = passed<&sqlite3_io_methods::xSectorSize>;
        m.xDeviceCharacteristics = passed<&sqlite3_io_methods::xDeviceCharacteristics>;
        if (version >= 2) {
            m.xShmMap = passed<&sqlite3_io_methods::xShmMap, int, int, int, void volatile**>;
            m.xShmLock = x_shm_lock;
            m.xShmBarrier = x_shm_barrier;
            m.xShmUnmap = passed<&sqlite3_io_methods::xShmUnmap, int>;
        }
        if (version >= 3) {
            m.xFetch = passed<&sqlite3_io_methods::xFetch, sqlite3_int64, int, void**>;
            m.xUnfetch = passed<&sqlite3_io_methods::xUnfetch, sqlite3_int64, void*>;
        }
    }
}

}  // namespace

void install_wal_vfs() {
    static const bool done = [] {
        unix_vfs = sqlite3_vfs_find(nullptr);
        if (!unix_vfs) return false;
        build_methods();
        // Everything but opening files is the unix VFS's own (its functions read no more of the
        // sqlite3_vfs than these shared fields).
        wal_vfs = *unix_vfs;
        wal_vfs.pNext = nullptr;
        wal_vfs.zName = "ticketd-wal";
        wal_vfs.szOsFile = static_cast<int>(real_offset) + unix_vfs->szOsFile;
        wal_vfs.xOpen = x_open;
        return sqlite3_vfs_register(&wal_vfs, 1) == SQLITE_OK;
    }();
    (void)done;
}

WalWriteCounts wal_write_counts() {
    return {writes_requested.load(std::memory_order_relaxed),
            writes_issued.load(std::memory_order_relaxed)};
}

}  // namespace ticketd::db
