#pragma once
// The split deployment started by scripts/run-split (a three-node NATS JetStream cluster, one
// ticketd per module, nginx in front) as a child process, for the split tests. The script starts
// again whatever dies, so a test kills a process by sending SIGKILL to its pid.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace ticketd::test {

class SplitDeployment {
public:
    // `env` is added to the script's environment (and so to every ticketd it starts).
    SplitDeployment(std::string script, std::string binary, std::filesystem::path dir,
                    std::vector<std::pair<std::string, std::string>> env = {});
    ~SplitDeployment();  // terminate() if still running

    // nginx's port, the one clients use.
    std::uint16_t port() const { return port_; }
    const std::filesystem::path& dir() const { return dir_; }
    // Starts the script and waits until /readyz through nginx is 200 (every process ready);
    // throws after 60 s.
    void start();
    // SIGKILL of one process: a module ("orders") or a NATS node ("nats-1".."nats-3").
    void kill9(const std::string& name) const;
    // While held, a process that ends is not started again (DATA_DIR/run/NAME.hold).
    void hold(const std::string& name, bool held) const;
    // The pid of a process, as recorded by the script (0 if none), and whether it runs.
    pid_t pid_of(const std::string& name) const;
    bool running(const std::string& name) const;
    // The HTTP and metrics ports of a module's process.
    std::pair<std::uint16_t, std::uint16_t> ports_of(const std::string& module) const;
    std::vector<std::uint16_t> metrics_ports() const;
    // SIGTERM to the script, which stops everything; returns its exit status.
    int terminate();

private:
    std::string script_, binary_;
    std::filesystem::path dir_;
    std::vector<std::pair<std::string, std::string>> env_;
    std::uint16_t port_;
    pid_t pid_ = -1;
};

}  // namespace ticketd::test
