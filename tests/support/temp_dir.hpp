#pragma once
// A temporary directory for a test's data, removed with everything in it when the object goes.
#include <string>

namespace ticketd::test {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace ticketd::test
