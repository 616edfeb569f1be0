#include "host/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace ticketd {

DataDirLock::DataDirLock(const std::string& data_dir, const std::string& program) {
    auto path = (std::filesystem::path(data_dir) / (program + ".lock")).string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        throw std::runtime_error("another " + program + " is already using the data directory " +
                                 data_dir);
    }
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace ticketd
