#pragma once
// The real ticketd binary as a child process, for tests that kill it (SIGKILL, SIGTERM) and
// start it again on the same data directory and port.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ticketd::test {

// A loopback port outside Linux's ephemeral range (32768-60999), free when chosen, so that it is
// still free when the server restarts on it.
std::uint16_t pick_stable_port();

// Starts `argv` (argv[0] a path, or a name looked up in PATH) with this process's environment
// plus `env`, its stderr (and with `stdout_too` its stdout) appended to `output`; returns its pid.
// posix_spawn, with everything prepared here: after a plain fork() in a process with threads
// (an HTTP stand-in, a client) the child can inherit a lock another thread held and hang in
// setenv or freopen before it ever runs the program. Throws if the program cannot be started.
pid_t spawn_process(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    const std::string& output, bool stdout_too = false);

class ChildServer {
public:
    // `args` follow the binary's own; `env` is added to this process's environment.
    ChildServer(std::string binary, std::string data_dir, std::vector<std::string> args,
                std::vector<std::pair<std::string, std::string>> env = {});
    ~ChildServer();  // SIGKILL if still running

    std::uint16_t port() const { return port_; }
    // Starts it and waits until /healthz answers; throws with the log's tail if it does not.
    void start();
    void kill9();
    // SIGTERM, then waits for it to exit; returns its exit status.
    int terminate();
    std::string log_tail() const;

private:
    std::string binary_, data_dir_;
    std::vector<std::string> args_;
    std::vector<std::pair<std::string, std::string>> env_;
    std::uint16_t port_;
    pid_t pid_ = -1;
};

}  // namespace ticketd::test
