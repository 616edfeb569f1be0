#pragma once
#include <cstdint>

namespace ticketd::db {

// SQLite writes each frame of its write-ahead log as two pwrite calls (a 24-byte header, then the
// page), so a commit touching 6 pages costs 12 system calls; on a virtual machine each costs
// several microseconds. This installs, as the process's default SQLite VFS, a thin layer over
// SQLite's own "unix" VFS that gathers a commit's frames and writes them with one call when the
// commit frame is complete, before SQLite publishes the commit to other connections. Everything
// else (locks, shared memory, reads, syncs, the file format) is the unix VFS's own, so other
// processes and tools see ordinary SQLite files. See docs/performance.md.
//
// Call before opening connections; later calls do nothing. Must follow any sqlite3_config call.
void install_wal_vfs();

// Log writes SQLite asked for, and writes the files received, since the process started.
struct WalWriteCounts {
    std::uint64_t requested = 0;
    std::uint64_t issued = 0;
};
WalWriteCounts wal_write_counts();

}  // namespace ticketd::db
