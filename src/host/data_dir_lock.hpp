#pragma once
#include <string>

namespace ticketd {

// An exclusive lock on <data-dir>/<program>.lock for as long as the server runs: a second server
// on the same data directory would run a second relay, delivery and expiry timers over the same
// databases. The kernel drops the lock when the process dies, so a crash leaves nothing stale.
class DataDirLock {
public:
    // Throws std::runtime_error if another process holds it.
    DataDirLock(const std::string& data_dir, const std::string& program);
    ~DataDirLock();
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace ticketd
