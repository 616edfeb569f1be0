#pragma once
// What the listener (server.cpp) and the connections (connection.cpp) share: the options, the
// io_context and its threads, and the list of open connections with their per-address counts
// and request-body budget. Private to src/http.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/server.hpp"

namespace ticketd::http {

class Connection;
class Router;

struct ServerState {
    const Router& router;
    ServerOptions options;
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> connections{0};
    std::uint16_t bound_port = 0;

    // Declared before the io_context: connections still queued in it are destroyed with it and
    // report their closing here. Each connection removes itself from the list in its destructor.
    std::mutex mutex;
    std::list<Connection*> open;
    std::condition_variable closed_cv;
    struct AddressUse {
        std::size_t connections = 0;
        std::size_t body_bytes = 0;  // reserved by its bodies being read
    };
    std::unordered_map<std::string, AddressUse> per_address;  // by peer; guarded by mutex
    std::size_t body_bytes = 0;                               // all bodies; guarded by mutex

    std::promise<void> stop_requested;
    std::shared_future<void> stop_future;
    std::once_flag stop_once, request_once;

    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::signal_set signals;
    // Read and write timeouts: one timer for the whole server (see sweep()) rather than one armed
    // and cancelled around every read and write, which cost each request two extra handlers.
    boost::asio::steady_timer sweeper;
    std::chrono::milliseconds sweep_period;
    std::vector<std::thread> threads;

    ServerState(const Router& r, ServerOptions o)
        : router(r),
          options(std::move(o)),
          stop_future(stop_requested.get_future().share()),
          ioc(options.threads > 0
                  ? options.threads
                  : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
          acceptor(ioc),
          signals(ioc, SIGINT, SIGTERM),
          sweeper(ioc),
          // A timed-out connection is closed at most a quarter of its timeout late (1 s at most).
          sweep_period(std::clamp(std::min(options.read_timeout, options.write_timeout) / 4,
                                  std::chrono::milliseconds(10), std::chrono::milliseconds(1000))) {
    }

    void do_accept();
    void sweep();
    // Whether a connection from `address` may be served now, after closing (asynchronously) the
    // one that has waited longest for its client if a cap is reached. False: every connection
    // that counts is busy, and the newcomer gets a 503.
    bool make_room(const std::string& address);
    void connection_closed(std::optional<std::list<Connection*>::iterator> entry,
                           const std::string& address) {
        std::lock_guard lock(mutex);
        if (entry) {  // it had joined the list and the count (start())
            open.erase(*entry);
            if (auto it = per_address.find(address);
                it != per_address.end() && --it->second.connections == 0)
                per_address.erase(it);
        }
        --connections;
        closed_cv.notify_all();
    }
    // Reserves `n` bytes of the request-body budget for a connection from `address`; false if it
    // would go over the server's budget, or over a quarter of it for one address (trusted
    // proxies excepted), so that one client trickling bodies cannot take all of it.
    bool reserve_body(const std::string& address, std::size_t n) {
        std::lock_guard lock(mutex);
        if (body_bytes + n > options.body_memory) return false;
        auto& use = per_address[address];
        bool exempt = options.trusted_proxies.contains(address);
        if (!exempt && use.body_bytes + n > options.body_memory / 4) return false;
        use.body_bytes += n;
        body_bytes += n;
        return true;
    }
    void release_body(const std::string& address, std::size_t n) {
        std::lock_guard lock(mutex);
        body_bytes -= n;
        if (auto it = per_address.find(address); it != per_address.end())
            it->second.body_bytes -= n;
    }
};

}  // namespace ticketd::http
