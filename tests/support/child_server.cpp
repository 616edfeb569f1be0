#include "support/child_server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/http_client.hpp"

extern "C" char** environ;

namespace ticketd::test {

pid_t spawn_process(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    const std::string& output, bool stdout_too) {
    auto overridden = [&env](std::string_view var) {
        auto name = var.substr(0, var.find('='));
        return std::any_of(env.begin(), env.end(),
                           [&](const auto& kv) { return kv.first == name; });
    };
    std::vector<std::string> vars;
    for (char** e = environ; *e != nullptr; ++e)
        if (!overridden(*e)) vars.emplace_back(*e);
    for (auto it = env.rbegin(); it != env.rend(); ++it)  // the last of a name wins, as setenv's
        if (std::none_of(env.rbegin(), it, [&](const auto& kv) { return kv.first == it->first; }))
            vars.push_back(it->first + "=" + it->second);
    std::vector<std::string> args = argv;
    auto pointers = [](std::vector<std::string>& strings) {
        std::vector<char*> out;
        for (auto& s : strings) out.push_back(s.data());
        out.push_back(nullptr);
        return out;
    };
    auto argp = pointers(args);
    auto envp = pointers(vars);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, STDERR_FILENO, output.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (stdout_too) posix_spawn_file_actions_adddup2(&files, STDERR_FILENO, STDOUT_FILENO);
    // The tests stop children with SIGTERM (and run-split traps TERM and INT): whatever this
    // process blocks or ignores, the child starts with those signals at their defaults.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, stop;
    sigemptyset(&none);
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &stop);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    // A path runs as given (execv); a bare name ("bash") is looked up in PATH.
    int rc = argv.at(0).find('/') != std::string::npos
                 ? posix_spawn(&pid, argp[0], &files, &attr, argp.data(), envp.data())
                 : posix_spawnp(&pid, argp[0], &files, &attr, argp.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0)
        throw std::runtime_error("cannot start " + argv.at(0) + " (output to " + output +
                                 "): " + std::strerror(rc));
    return pid;
}

std::uint16_t pick_stable_port() {
    static int next = 0;
    for (int i = 0; i < 4000; ++i) {
        auto port = static_cast<std::uint16_t>(20000 + (getpid() * 31 + (next++) * 7) % 12000);
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (free) return port;
    }
    throw std::runtime_error("no free port in 20000-31999");
}

ChildServer::ChildServer(std::string binary, std::string data_dir, std::vector<std::string> args,
                         std::vector<std::pair<std::string, std::string>> env)
    : binary_(std::move(binary)),
      data_dir_(std::move(data_dir)),
      args_(std::move(args)),
      env_(std::move(env)),
      port_(pick_stable_port()) {}

ChildServer::~ChildServer() {
    if (pid_ > 0) kill9();
}

std::string ChildServer::log_tail() const {
    std::ifstream in(data_dir_ + "/server.log");
    std::stringstream all;
    all << in.rdbuf();
    auto text = all.str();
    return text.size() > 3000 ? text.substr(text.size() - 3000) : text;
}

void ChildServer::start() {
    std::vector<std::string> argv = {
        binary_,      "--port",           std::to_string(port_), "--host", "127.0.0.1",
        "--data-dir", data_dir_,          "--access-log",        "false",  "--threads",
        "2",          "--metrics-listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args_.begin(), args_.end());
    pid_ = spawn_process(argv, env_, data_dir_ + "/server.log");
    for (int i = 0; i < 10000; ++i) {  // a start after a power cut recovers the logs first
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("ticketd exited at start (status " + std::to_string(status) +
                                     "); its log ends:\n" + log_tail());
        }
        try {
            HttpClient c(port_);
            if (c.get("/healthz").status == 200) return;
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    throw std::runtime_error("ticketd did not answer /healthz; its log ends:\n" + log_tail());
}

void ChildServer::kill9() {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

int ChildServer::terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
}

}  // namespace ticketd::test
