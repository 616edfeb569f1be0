#pragma once
// A power-cut simulator for SQLite files, in the spirit of SQLite's own crash tests and LazyFS:
// a VFS layer that, before each write or truncate of a database or log file, appends what it is
// about to overwrite to an undo journal beside the file (<file>.undo), and empties that journal
// when the file is synced. A process killed with SIGKILL leaves every file as the OS's page cache
// had it; applying the journals afterwards (apply_power_cut) takes each file back to what was on
// disk at its last sync, or to that plus a prefix of the later writes, torn at a sector boundary:
// what a power cut can leave. Directory entries are not simulated: a file created and never
// synced survives here, as it would on a file system that orders metadata (ext4's default).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

namespace ticketd::test {

// Registers the journaling layer as the default VFS, over the current default. Call once,
// before SQLite opens anything (and after any sqlite3_config call).
void install_undo_vfs();

struct PowerCutReport {
    int files = 0;            // files with writes since their last sync
    std::int64_t writes = 0;  // such writes
    std::int64_t undone = 0;  // of which the cut took back (a torn one counts)
    int torn = 0;             // writes kept only up to a sector boundary
    // Of the logs (-wal) with such writes, the one whose last sync (or opening) was longest before
    // the cut, and how long: what the bound on lost commits rests on.
    std::chrono::nanoseconds longest_unsynced{0};
    std::string longest_unsynced_file;
};

// Applies every undo journal in `dir` (not recursively) and removes it, and removes the -shm
// files (shared memory does not survive a power cut). For each file independently, `rng` picks
// how many of the writes since its sync survive (none, all, or a prefix) and whether the next
// one is torn. With `worst`, every write since the last sync is lost.
PowerCutReport apply_power_cut(const std::filesystem::path& dir, std::mt19937& rng,
                               bool worst = false);

}  // namespace ticketd::test
