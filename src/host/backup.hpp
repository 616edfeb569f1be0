#pragma once
// Online backup and restore of a data directory.
#include <string>
#include <vector>

namespace ticketd {

// Copies every database named in `databases` (bus first, then the modules', a fixed order) of
// `data_dir` into `dest_dir` (created; must not hold databases yet) while the server may be
// running. All databases are write-locked together for the moment of the copy (SQLite's backup
// API), so the copies form one consistent cut: no event in the copied log is missing from its
// publisher's copy and vice versa. Writers wait (busy timeout) meanwhile. Then runs PRAGMA
// integrity_check on every copy. Throws std::runtime_error on any failure.
void backup_data_dir(const std::string& data_dir, const std::string& dest_dir,
                     const std::vector<std::string>& databases);

// Copies a backup into `data_dir`, which must not hold databases yet, and checks every copy.
void restore_data_dir(const std::string& backup_dir, const std::string& data_dir,
                      const std::vector<std::string>& databases);

}  // namespace ticketd
