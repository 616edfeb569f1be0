#include "support/split_deployment.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/child_server.hpp"
#include "support/http_client.hpp"

namespace ticketd::test {

SplitDeployment::SplitDeployment(std::string script, std::string binary, std::filesystem::path dir,
                                 std::vector<std::pair<std::string, std::string>> env)
    : script_(std::move(script)),
      binary_(std::move(binary)),
      dir_(std::move(dir)),
      env_(std::move(env)),
      port_(pick_stable_port()) {}

SplitDeployment::~SplitDeployment() {
    if (pid_ > 0) terminate();
}

void SplitDeployment::start() {
    std::filesystem::create_directories(dir_);
    auto env = env_;  // the test's own TICKETD_BIN, if any, wins: the last of a name does
    env.insert(env.begin(), {"TICKETD_BIN", binary_});
    pid_ = spawn_process({"bash", script_, dir_.string(), std::to_string(port_)}, env,
                         (dir_ / "run-split.log").string(), /*stdout_too=*/true);
    for (int i = 0; i < 600; ++i) {
        try {
            if (HttpClient(port_).get("/readyz").status == 200) return;
        } catch (const std::exception&) {
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("scripts/run-split ended at start; see " +
                                     (dir_ / "run-split.log").string());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("the split deployment was not ready in 60 s; see " +
                             (dir_ / "run-split.log").string());
}

pid_t SplitDeployment::pid_of(const std::string& name) const {
    std::ifstream in(dir_ / "run" / (name + ".pid"));
    pid_t pid = 0;
    return in >> pid && pid > 0 ? pid : 0;
}

bool SplitDeployment::running(const std::string& name) const {
    auto pid = pid_of(name);
    return pid > 0 && ::kill(pid, 0) == 0;
}

void SplitDeployment::kill9(const std::string& name) const {
    if (auto pid = pid_of(name)) ::kill(pid, SIGKILL);
}

void SplitDeployment::hold(const std::string& name, bool held) const {
    auto file = dir_ / "run" / (name + ".hold");
    if (held)
        std::ofstream{file};
    else
        std::filesystem::remove(file);
}

std::pair<std::uint16_t, std::uint16_t> SplitDeployment::ports_of(const std::string& module) const {
    std::ifstream in(dir_ / "run" / (module + ".ports"));
    int http = 0, metrics = 0;
    if (!(in >> http >> metrics)) throw std::runtime_error("no ports recorded for " + module);
    return {static_cast<std::uint16_t>(http), static_cast<std::uint16_t>(metrics)};
}

std::vector<std::uint16_t> SplitDeployment::metrics_ports() const {
    std::vector<std::uint16_t> out;
    for (auto m : {"auth", "tickets", "orders", "expiration", "payments"})
        out.push_back(ports_of(m).second);
    return out;
}

int SplitDeployment::terminate() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace ticketd::test
