#pragma once
#include <string>
#include <vector>

namespace ticketd {

// The whole program: parses the command line and runs the command. Returns the exit status:
// 0 success, 1 a runtime failure (logged), 2 a usage error (one line on stderr).
int run_cli(int argc, const char* const* argv, const std::vector<std::string>& env);

}  // namespace ticketd
