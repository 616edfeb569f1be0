#include "host/signing_key.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "util/ids.hpp"
#include "util/log.hpp"

namespace ticketd {

std::string signing_key(const host::HostConfig& config) {
    if (!config.jwt_key.empty()) {
        if (config.production && config.jwt_key.size() < 32)
            log::warn("JWT_KEY is shorter than 32 characters; use a long random key");
        return config.jwt_key;
    }
    if (config.production) throw std::runtime_error("JWT_KEY must be set in production mode");
    if (config.data_dir == ":memory:") return util::random_id() + util::random_id();
    auto path = (std::filesystem::path(config.data_dir) / "jwt.key").string();
    if (std::ifstream in{path}) {
        std::string key;
        std::getline(in, key);
        if (!key.empty()) return key;
    }
    std::string key = util::random_id() + util::random_id();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + path);
    std::string line = key + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::fsync(fd);
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path);
    log::warn("JWT_KEY not set: generated a development signing key; set JWT_KEY in production",
              {{"file", path}});
    return key;
}

}  // namespace ticketd
