#include "powercut/undo_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <vector>

namespace ticketd::test {
namespace {

// Journal layout (host byte order): "UNDO", then records:
//   'S' time 0 0 0                                         the file is on disk (opened or synced)
//   'W' offset size_before length old_length old_bytes...  a write of `length` bytes at `offset`
//   'T' new_size size_before 0 old_length old_bytes...     a truncate (old_bytes: what it cut off)
// each field an int64 but the tag; `time` is steady_clock's nanoseconds (CLOCK_MONOTONIC, the same
// in every process), so the harness can tell how long a file's writes went unsynced. A fresh
// process starts its journals empty: the harness applies and removes them after every kill, so
// what a file holds when a process opens it is on disk. A record is appended with one write()
// call; a torn last record (the process died inside that call) is ignored: its change never
// happened.
constexpr char magic[4] = {'U', 'N', 'D', 'O'};

struct Journal {
    std::mutex m;  // one file's write and its journal entry, or its sync and the reset, at once
    int fd = -1;
};

std::mutex journals_mutex;
std::map<std::string, std::unique_ptr<Journal>>& journals() {
    static std::map<std::string, std::unique_ptr<Journal>> all;
    return all;
}

constexpr std::size_t header_bytes = 1 + 4 * sizeof(std::int64_t);

void append(Journal& j, char tag, std::int64_t a, std::int64_t size_before, std::int64_t length,
            const std::vector<char>& old) {
    std::vector<char> record(header_bytes + old.size());
    record[0] = tag;
    auto len = static_cast<std::int64_t>(old.size());
    std::memcpy(record.data() + 1, &a, 8);
    std::memcpy(record.data() + 9, &size_before, 8);
    std::memcpy(record.data() + 17, &length, 8);
    std::memcpy(record.data() + 25, &len, 8);
    if (!old.empty()) std::memcpy(record.data() + header_bytes, old.data(), old.size());
    if (::write(j.fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()))
        throw std::runtime_error("cannot write the undo journal");
}

void mark_synced(Journal& j) {
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
                   .count();
    append(j, 'S', now, 0, 0, {});
}

Journal& journal_for(const std::string& path) {
    std::lock_guard lock(journals_mutex);
    auto& j = journals()[path];
    if (!j) {
        j = std::make_unique<Journal>();
        j->fd = ::open((path + ".undo").c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (j->fd < 0) throw std::runtime_error("cannot create " + path + ".undo");
        if (::write(j->fd, magic, sizeof magic) != sizeof magic)
            throw std::runtime_error("cannot write journal");
        mark_synced(*j);
    }
    return *j;
}

struct File {
    sqlite3_file base;
    sqlite3_file* real;
    Journal* journal;  // null: not a file that survives (temp files, shared memory)
};
constexpr std::size_t real_offset = (sizeof(File) + 15) & ~std::size_t{15};

sqlite3_vfs* below = nullptr;
sqlite3_vfs undo_vfs;
std::array<sqlite3_io_methods, 3> methods;

File& self(sqlite3_file* f) { return *reinterpret_cast<File*>(f); }

// The bytes of [from, to) that exist in the file now.
std::vector<char> read_range(File& f, std::int64_t from, std::int64_t to, std::int64_t size) {
    to = std::min(to, size);
    if (to <= from) return {};
    std::vector<char> out(static_cast<std::size_t>(to - from));
    f.real->pMethods->xRead(f.real, out.data(), static_cast<int>(out.size()), from);
    return out;
}

int x_write(sqlite3_file* file, const void* data, int n, sqlite3_int64 offset) {
    File& f = self(file);
    if (!f.journal) return f.real->pMethods->xWrite(f.real, data, n, offset);
    std::lock_guard lock(f.journal->m);
    sqlite3_int64 size = 0;
    if (int rc = f.real->pMethods->xFileSize(f.real, &size); rc != SQLITE_OK) return rc;
    try {
        append(*f.journal, 'W', offset, size, n, read_range(f, offset, offset + n, size));
    } catch (const std::exception&) {
        return SQLITE_IOERR_WRITE;
    }
    return f.real->pMethods->xWrite(f.real, data, n, offset);
}

int x_truncate(sqlite3_file* file, sqlite3_int64 new_size) {
    File& f = self(file);
    if (!f.journal) return f.real->pMethods->xTruncate(f.real, new_size);
    std::lock_guard lock(f.journal->m);
    sqlite3_int64 size = 0;
    if (int rc = f.real->pMethods->xFileSize(f.real, &size); rc != SQLITE_OK) return rc;
    try {
        append(*f.journal, 'T', new_size, size, 0, read_range(f, new_size, size, size));
    } catch (const std::exception&) {
        return SQLITE_IOERR_TRUNCATE;
    }
    return f.real->pMethods->xTruncate(f.real, new_size);
}

// What the file holds now counts as on disk: nothing is left to take back. The disk itself is not
// asked: no real power is cut, so the journal alone is the model, and a shared machine's slow
// fsync (seconds, while other tests write) cannot stretch the bound the test holds ticketd to.
int x_sync(sqlite3_file* file, int flags) {
    File& f = self(file);
    if (!f.journal) return f.real->pMethods->xSync(f.real, flags);
    std::lock_guard lock(f.journal->m);
    if (::ftruncate(f.journal->fd, sizeof magic) != 0) return SQLITE_IOERR_FSYNC;
    try {
        mark_synced(*f.journal);
    } catch (const std::exception&) {
        return SQLITE_IOERR_FSYNC;
    }
    return SQLITE_OK;
}

int x_close(sqlite3_file* file) {
    File& f = self(file);
    int rc = f.real->pMethods->xClose(f.real);
    f.~File();
    return rc;
}

template <auto Method, typename... Args>
auto passed(sqlite3_file* file, Args... args) {
    File& f = self(file);
    return (f.real->pMethods->*Method)(f.real, args...);
}

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
    File& f = *new (file) File{};
    f.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + real_offset);
    f.real->pMethods = nullptr;
    int rc = below->xOpen(below, name, f.real, flags, out_flags);
    if (rc != SQLITE_OK || !f.real->pMethods) {
        if (f.real->pMethods) f.real->pMethods->xClose(f.real);
        f.~File();
        file->pMethods = nullptr;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    bool durable =
        name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL));
    try {
        f.journal = durable ? &journal_for(name) : nullptr;
    } catch (const std::exception&) {
        f.real->pMethods->xClose(f.real);
        f.~File();
        file->pMethods = nullptr;
        return SQLITE_CANTOPEN;
    }
    int version = f.real->pMethods->iVersion;
    file->pMethods = &methods[static_cast<std::size_t>(version < 1   ? 1
                                                       : version > 3 ? 3
                                                                     : version) -
                              1];
    return SQLITE_OK;
}

// A deleted file has nothing to take back (deletes are treated as durable); its journal stays
// open, emptied, for a file of the same name created later.
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
    Journal* j = nullptr;
    {
        std::lock_guard lock(journals_mutex);
        auto it = journals().find(name);
        if (it != journals().end()) j = it->second.get();
    }
    if (!j) return below->xDelete(below, name, sync_dir);
    std::lock_guard lock(j->m);
    int rc = below->xDelete(below, name, sync_dir);
    if (rc == SQLITE_OK && ::ftruncate(j->fd, sizeof magic) != 0) return SQLITE_IOERR_DELETE;
    return rc;
}

}  // namespace

void install_undo_vfs() {
    static const bool done = [] {
        below = sqlite3_vfs_find(nullptr);
        if (!below) return false;
        for (int version = 1; version <= 3; ++version) {
            auto& m = methods[static_cast<std::size_t>(version) - 1];
            m = {};
            m.iVersion = version;
            m.xClose = x_close;
            m.xRead = passed<&sqlite3_io_methods::xRead, void*, int, sqlite3_int64>;
            m.xWrite = x_write;
            m.xTruncate = x_truncate;
            m.xSync = x_sync;
            m.xFileSize = passed<&sqlite3_io_methods::xFileSize, sqlite3_int64*>;
            m.xLock = passed<&sqlite3_io_methods::xLock, int>;
            m.xUnlock = passed<&sqlite3_io_methods::xUnlock, int>;
            m.xCheckReservedLock = passed<&sqlite3_io_methods::xCheckReservedLock, int*>;
            m.xFileControl = passed<&sqlite3_io_methods::xFileControl, int, void*>;
            m.xSectorSize = passed<&sqlite3_io_methods::xSectorSize>;
            m.xDeviceCharacteristics = passed<&sqlite3_io_methods::xDeviceCharacteristics>;
            if (version >= 2) {
                m.xShmMap = passed<&sqlite3_io_methods::xShmMap, int, int, int, void volatile**>;
                m.xShmLock = passed<&sqlite3_io_methods::xShmLock, int, int, int>;
                m.xShmBarrier = passed<&sqlite3_io_methods::xShmBarrier>;
                m.xShmUnmap = passed<&sqlite3_io_methods::xShmUnmap, int>;
            }
            if (version >= 3) {
                m.xFetch = passed<&sqlite3_io_methods::xFetch, sqlite3_int64, int, void**>;
                m.xUnfetch = passed<&sqlite3_io_methods::xUnfetch, sqlite3_int64, void*>;
            }
        }
        undo_vfs = *below;
        undo_vfs.pNext = nullptr;
        undo_vfs.zName = "ticketd-undo";
        undo_vfs.szOsFile = static_cast<int>(real_offset) + below->szOsFile;
        undo_vfs.xOpen = x_open;
        undo_vfs.xDelete = x_delete;
        return sqlite3_vfs_register(&undo_vfs, 1) == SQLITE_OK;
    }();
    if (!done) throw std::runtime_error("cannot install the undo VFS");
}

namespace {

struct Record {
    char tag;
    std::int64_t a, size_before, length;
    std::vector<char> old;
};

std::vector<Record> read_journal(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<Record> out;
    if (all.size() < sizeof magic || std::memcmp(all.data(), magic, sizeof magic) != 0) return out;
    std::size_t at = sizeof magic;
    while (at + header_bytes <= all.size()) {
        Record r;
        r.tag = all[at];
        std::int64_t len = 0;
        std::memcpy(&r.a, all.data() + at + 1, 8);
        std::memcpy(&r.size_before, all.data() + at + 9, 8);
        std::memcpy(&r.length, all.data() + at + 17, 8);
        std::memcpy(&len, all.data() + at + 25, 8);
        if (len < 0 || at + header_bytes + static_cast<std::size_t>(len) > all.size())
            break;  // torn record
        r.old.assign(all.data() + at + header_bytes, all.data() + at + header_bytes + len);
        out.push_back(std::move(r));
        at += header_bytes + static_cast<std::size_t>(len);
    }
    return out;
}

}  // namespace

PowerCutReport apply_power_cut(const std::filesystem::path& dir, std::mt19937& rng, bool worst) {
    constexpr std::int64_t sector = 512;
    PowerCutReport report;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        auto path = entry.path();
        if (path.extension() == ".undo") {
            auto records = read_journal(path);
            auto target = path;
            target.replace_extension();
            // The journal starts with the time the file was last on disk; the changes follow.
            std::optional<std::int64_t> synced_at;
            std::erase_if(records, [&](const Record& r) {
                if (r.tag != 'S') return false;
                synced_at = r.a;
                return true;
            });
            // A log's unsynced writes are commits; a database file's are a checkpoint's copies of
            // frames the log still holds.
            if (!records.empty() && synced_at && target.string().ends_with("-wal")) {
                auto unsynced = std::chrono::steady_clock::now().time_since_epoch() -
                                std::chrono::nanoseconds(*synced_at);
                if (unsynced > report.longest_unsynced) {
                    report.longest_unsynced =
                        std::chrono::duration_cast<std::chrono::nanoseconds>(unsynced);
                    report.longest_unsynced_file = target.filename().string();
                }
            }
            if (!records.empty() && std::filesystem::exists(target)) {
                ++report.files;
                report.writes += static_cast<std::int64_t>(records.size());
                // How many of the writes since the last sync reached the disk: none, all, or a
                // prefix; the first lost one may be torn.
                std::size_t keep = 0;
                switch (worst ? 0 : rng() % 3) {
                    case 0: keep = 0; break;
                    case 1: keep = records.size(); break;
                    default: keep = rng() % (records.size() + 1); break;
                }
                bool tear = !worst && keep < records.size() && rng() % 2 == 0;
                int fd = ::open(target.c_str(), O_RDWR);
                if (fd < 0) throw std::runtime_error("cannot open " + target.string());
                for (std::size_t i = records.size(); i-- > keep;) {
                    const Record& r = records[i];
                    ++report.undone;
                    std::int64_t from = r.a;  // where the old bytes go back
                    std::int64_t skip = 0;    // bytes of the write kept
                    std::int64_t size_after_undo = r.size_before;
                    if (tear && i == keep && r.tag == 'W') {
                        // The first sectors of this write made it to disk, the rest did not.
                        std::int64_t first_boundary = (r.a / sector + 1) * sector;
                        std::int64_t sectors = static_cast<std::int64_t>(rng() % 4);
                        // (An append has no old bytes: its kept part is what extends the file.)
                        skip = std::min<std::int64_t>(first_boundary - r.a + sectors * sector,
                                                      r.length);
                        ++report.torn;
                        struct stat st {};
                        ::fstat(fd, &st);
                        size_after_undo = std::max<std::int64_t>(
                            r.size_before, std::min<std::int64_t>(st.st_size, r.a + skip));
                    }
                    if (r.tag == 'T' || static_cast<std::int64_t>(r.old.size()) > skip) {
                        auto n = static_cast<std::int64_t>(r.old.size()) - skip;
                        if (n > 0 && ::pwrite(fd, r.old.data() + skip, static_cast<std::size_t>(n),
                                              from + skip) != n)
                            throw std::runtime_error("cannot undo a write in " + target.string());
                    }
                    if (::ftruncate(fd, size_after_undo) != 0)
                        throw std::runtime_error("cannot restore the size of " + target.string());
                }
                ::fsync(fd);
                ::close(fd);
            }
            std::filesystem::remove(path);
        }
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.path().string().ends_with("-shm")) std::filesystem::remove(entry.path());
    return report;
}

}  // namespace ticketd::test
