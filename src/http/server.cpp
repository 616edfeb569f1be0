#include "http/server.hpp"

#include <algorithm>
#include <memory>
#include <mutex>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "http/api_error.hpp"
#include "http/connection.hpp"
#include "http/server_state.hpp"
#include "util/log.hpp"
#include "util/thread_name.hpp"

// The listener: binds, accepts (making room at the caps), sweeps timeouts, and stops gracefully.
// Each accepted socket is served by a Connection (connection.cpp).
namespace ticketd::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

void ServerState::sweep() {
    sweeper.expires_after(sweep_period);
    sweeper.async_wait([this](error_code ec) {
        if (ec) return;
        std::vector<std::shared_ptr<Connection>> overdue;
        auto now = Clock::now();
        {
            std::lock_guard lock(mutex);
            for (Connection* s : open)
                if (s->overdue(now))
                    // Null when the connection is already being destroyed (its destructor
                    // waits for this lock); the pointers are released after the lock.
                    if (auto alive = s->weak_from_this().lock())
                        overdue.push_back(std::move(alive));
        }
        for (auto& s : overdue) s->time_out();
        overdue.clear();
        sweep();
    });
}

bool ServerState::make_room(const std::string& address) {
    std::shared_ptr<Connection> victim;
    {
        std::lock_guard lock(mutex);
        bool exempt =
            options.max_connections_per_address == 0 || options.trusted_proxies.contains(address);
        auto mine = per_address.find(address);
        bool address_full = !exempt && mine != per_address.end() &&
                            mine->second.connections >= options.max_connections_per_address;
        if (!address_full && connections.load() < options.max_connections) return true;
        // The one that has waited longest for its client: among this address's own when its cap
        // is what is reached, else among all.
        Clock::rep oldest = 0;
        Connection* pick = nullptr;
        for (Connection* s : open) {
            auto since = s->waiting_since();
            if (since == 0 || s->evicted || (address_full && s->address() != address)) continue;
            if (!pick || since < oldest) pick = s, oldest = since;
        }
        if (pick) victim = pick->weak_from_this().lock();
        if (victim) victim->evicted = true;  // one newcomer per victim
    }
    if (!victim) return false;
    victim->evict();
    return true;
}

void ServerState::do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
            log::warn("accept failed", {{"error", ec.message()}});
            if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space) {
                // Out of file descriptors: pause briefly instead of spinning.
                auto timer =
                    std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(50));
                timer->async_wait([this, timer](error_code) { do_accept(); });
                return;
            }
            return do_accept();
        }
        if (stopping) return;
        error_code ep_ec;
        auto peer = socket.remote_endpoint(ep_ec);
        std::string address = ep_ec ? std::string() : peer.address().to_string();
        if (!make_room(address)) {
            // Every connection is busy: a short 503 in the error shape, then hang up.
            static const std::string busy = [] {
                std::string body = error_body({{"Too many connections, retry", ""}});
                return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                       "Connection: close\r\nRetry-After: 1\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body;
            }();
            auto s = std::make_shared<tcp::socket>(std::move(socket));
            net::async_write(*s, net::buffer(busy), [s](error_code, std::size_t) {
                error_code ignored;
                s->shutdown(tcp::socket::shutdown_both, ignored);
                s->close(ignored);
            });
            return do_accept();
        }
        ++connections;
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        serve_connection(std::move(socket), *this);
        do_accept();
    });
}

Server::Server(const Router& router, ServerOptions options)
    : impl_(std::make_unique<ServerState>(router, std::move(options))) {}

Server::~Server() { stop(); }

void Server::listen() {
    auto& i = *impl_;
    if (i.acceptor.is_open()) return;
    error_code ec;
    auto address = net::ip::make_address(i.options.host, ec);
    if (ec) throw std::runtime_error("invalid listen address " + i.options.host);
    tcp::endpoint ep{address, i.options.port};
    i.acceptor.open(ep.protocol(), ec);
    if (!ec) i.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) i.acceptor.bind(ep, ec);
    if (!ec) i.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        error_code ignored;
        i.acceptor.close(ignored);
        throw std::runtime_error("cannot listen on " + i.options.host + ":" +
                                 std::to_string(i.options.port) + ": " + ec.message());
    }
    i.bound_port = i.acceptor.local_endpoint().port();
}

void Server::start() {
    listen();
    auto& i = *impl_;
    i.signals.async_wait([this](error_code ec, int signal) {
        if (ec) return;
        log::info("signal received, shutting down", {{"signal", std::to_string(signal)}});
        request_stop();
    });
    i.do_accept();
    i.sweep();
    int n = i.options.threads > 0
                ? i.options.threads
                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int t = 0; t < n; ++t)
        i.threads.emplace_back([&i, t] {
            util::name_this_thread("http-" + std::to_string(t));
            i.ioc.run();
        });
}

std::uint16_t Server::port() const { return impl_->bound_port; }

void Server::wait_for_signal() { impl_->stop_future.wait(); }

void Server::request_stop() {
    std::call_once(impl_->request_once, [this] { impl_->stop_requested.set_value(); });
}

void Server::stop() {
    auto& i = *impl_;
    std::call_once(i.stop_once, [&i] {
        if (i.threads.empty()) return;
        i.stopping = true;
        net::post(i.ioc, [&i] {
            error_code ec;
            i.acceptor.close(ec);
            i.signals.cancel(ec);
        });
        std::vector<std::shared_ptr<Connection>> live;
        {
            std::lock_guard lock(i.mutex);
            for (Connection* s : i.open)
                if (auto alive = s->weak_from_this().lock()) live.push_back(std::move(alive));
        }
        for (auto& s : live) s->shutdown();
        live.clear();
        {
            std::unique_lock lock(i.mutex);
            if (!i.closed_cv.wait_for(lock, i.options.shutdown_grace,
                                      [&i] { return i.connections == 0; }))
                log::warn("shutdown grace period over; closing remaining connections",
                          {{"open", std::to_string(i.connections.load())}});
        }
        i.ioc.stop();
        for (auto& t : i.threads) t.join();
        i.threads.clear();
    });
    request_stop();
}

std::size_t Server::open_connections() const { return impl_->connections.load(); }

void Server::post(std::function<void()> fn) { net::post(impl_->ioc, std::move(fn)); }

namespace {

class AsioTimer final : public util::Timer {
public:
    explicit AsioTimer(net::io_context& ioc) : timer_(net::make_strand(ioc)) {}
    ~AsioTimer() override { cancel(); }
    void arm(std::chrono::milliseconds delay, std::function<void()> fire) override {
        std::lock_guard lock(mutex_);
        timer_.expires_after(std::max(delay, std::chrono::milliseconds(0)));
        timer_.async_wait([fire = std::move(fire)](error_code ec) {
            if (!ec) fire();
        });
    }
    void cancel() override {
        std::lock_guard lock(mutex_);
        timer_.cancel();
    }

private:
    std::mutex mutex_;
    net::steady_timer timer_;
};

}  // namespace

std::unique_ptr<util::Timer> Server::make_timer() {
    return std::make_unique<AsioTimer>(impl_->ioc);
}

}  // namespace ticketd::http
