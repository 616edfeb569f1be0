#include "event_loop_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ticketd::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
    int fd = -1;
    std::string in;
    long unit = -1;  // the unit in progress, -1 when idle
    int step = 0;
    Clock::time_point started, step_started;
    bool done = false;  // run_once_each: its one unit is over
};

int connect_to(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, 1000);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return false;
        }
    }
    return true;
}

// A complete response at the front of `in`: its status and body, and how many bytes it took.
struct Parsed {
    int status = 0;
    std::string_view body;
    std::size_t size = 0;
};

bool parse_response(const std::string& in, Parsed& out) {
    auto header_end = in.find("\r\n\r\n");
    if (header_end == std::string::npos) return false;
    if (in.size() < 12) return false;
    out.status = std::atoi(in.c_str() + 9);
    std::size_t length = 0;
    std::string_view head(in.data(), header_end);
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;
         at = head.find("\r\n", at + 2)) {
        auto line = head.substr(at + 2, head.find("\r\n", at + 2) - (at + 2));
        if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0)
            length = static_cast<std::size_t>(std::atol(std::string(line.substr(15)).c_str()));
    }
    std::size_t total = header_end + 4 + length;
    if (in.size() < total) return false;
    out.body = std::string_view(in).substr(header_end + 4, length);
    out.size = total;
    return true;
}

struct Runner {
    const Flow& flow;
    std::vector<Connection> conns;
    int epoll_fd = -1;
    long next_unit = 0;
    LoadResult result;
    bool stopping = false;  // closed loop: time is up, start no new unit
    bool once = false;
    long max_units = -1;  // run_units: how many units in all

    Runner(std::uint16_t port, int connections, const Flow& f, bool one_each)
        : flow(f), once(one_each) {
        epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
        conns.resize(static_cast<std::size_t>(connections));
        for (std::size_t i = 0; i < conns.size(); ++i) {
            conns[i].fd = connect_to(port);
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i;
            ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, conns[i].fd, &ev);
        }
    }
    ~Runner() {
        for (auto& c : conns)
            if (c.fd >= 0) ::close(c.fd);
        ::close(epoll_fd);
    }

    void finish(Connection& c, int status) {
        result.latency_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - c.started).count());
        result.final_status.push_back(status);
        ++result.units;
        if (status < 200 || status >= 300) ++result.errors;
        c.unit = -1;
        if (once) c.done = true;
    }

    // Sends step `c.step` of the connection's unit; ends the unit if the flow says it is complete.
    void send_step(Connection& c, std::string_view previous, int previous_status) {
        std::string req = flow(c.unit, c.step, previous);
        if (req.empty()) return finish(c, previous_status);
        c.step_started = Clock::now();
        if (!send_all(c.fd, req)) {
            finish(c, 0);
            ::close(c.fd);
            c.fd = -1;
        }
    }

    void start_unit(Connection& c) {
        if (c.fd < 0 || c.done || stopping) return;
        if (max_units >= 0 && next_unit >= max_units) {
            stopping = true;
            return;
        }
        c.unit = next_unit++;
        c.step = 0;
        c.started = Clock::now();
        send_step(c, {}, 200);
    }

    void on_readable(Connection& c) {
        char buf[16384];
        for (;;) {
            ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n > 0) {
                c.in.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (n < 0 && errno == EINTR) continue;
            // Closed or failed.
            if (c.unit >= 0) finish(c, 0);
            ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
            c.fd = -1;
            return;
        }
        Parsed p;
        while (c.unit >= 0 && parse_response(c.in, p)) {
            std::string body(p.body);
            c.in.erase(0, p.size);
            if (result.step_latency_ms.size() <= static_cast<std::size_t>(c.step))
                result.step_latency_ms.resize(static_cast<std::size_t>(c.step) + 1);
            result.step_latency_ms[static_cast<std::size_t>(c.step)].push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - c.step_started).count());
            if (p.status < 200 || p.status >= 300) {
                finish(c, p.status);
            } else {
                ++c.step;
                send_step(c, body, p.status);
            }
            if (c.unit < 0) start_unit(c);
        }
    }

    bool busy() const {
        for (const auto& c : conns)
            if (c.unit >= 0) return true;
        return false;
    }

    // Runs until `end` (closed loop) or until every unit is over (once each); gives up on
    // units still unanswered 30 s after that.
    void loop(Clock::time_point end) {
        epoll_event events[256];
        for (;;) {
            auto now = Clock::now();
            if (!stopping && !once && now >= end) stopping = true;
            if (now >= end + std::chrono::seconds(30)) return;
            if ((stopping || once) && !busy()) return;
            int n = ::epoll_wait(epoll_fd, events, 256, 5);
            for (int i = 0; i < n; ++i) {
                auto& c = conns[events[i].data.u64];
                if (c.fd >= 0) on_readable(c);
            }
        }
    }
};

}  // namespace

LoadResult run_closed_loop(std::uint16_t port, int connections, double seconds, const Flow& flow) {
    Runner r(port, connections, flow, false);
    auto t0 = Clock::now();
    auto end =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (auto& c : r.conns) r.start_unit(c);
    r.loop(end);
    r.result.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return r.result;
}

LoadResult run_units(std::uint16_t port, int connections, long units, const Flow& flow) {
    Runner r(port, connections, flow, false);
    r.max_units = units;
    auto t0 = Clock::now();
    for (auto& c : r.conns) r.start_unit(c);
    r.loop(Clock::time_point::max() - std::chrono::hours(1));
    r.result.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return r.result;
}

LoadResult run_once_each(std::uint16_t port, int connections, const Flow& flow) {
    Runner r(port, connections, flow, true);
    auto t0 = Clock::now();
    for (auto& c : r.conns) r.start_unit(c);
    r.loop(t0 + std::chrono::seconds(60));
    r.result.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return r.result;
}

std::string http_request(std::string_view method, std::string_view target, std::string_view cookie,
                         std::string_view json_body) {
    std::string out;
    out.reserve(256 + json_body.size());
    out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if (!cookie.empty()) out.append("Cookie: session=").append(cookie).append("\r\n");
    if (!json_body.empty())
        out.append("Content-Type: application/json\r\nContent-Length: ")
            .append(std::to_string(json_body.size()))
            .append("\r\n");
    out.append("\r\n").append(json_body);
    return out;
}

}  // namespace ticketd::bench
