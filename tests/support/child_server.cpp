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
    std::vector<std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view var(*e);
        auto name = var.substr(0, var.find('='));
        if (std::none_of(env.begin(), env.end(), [&](const auto& kv) { return kv.first == name; }))
            vars.emplace_back(var);
    }
    for (const auto& [name, value] : env) vars.push_back(name + "=" + value);
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
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (stdout_too) posix_spawn_file_actions_adddup2(&files, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argp[0], &files, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0) throw std::runtime_error("cannot start " + argv.at(0) + ": " + std::strerror(rc));
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
