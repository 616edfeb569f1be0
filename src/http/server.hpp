#pragma once
// The HTTP/1.1 server: a listener (server.cpp) and one asynchronous Connection per client
// (connection.cpp) on a pool of Asio threads. Keep-alive and pipelining-safe (one request at a time
// per connection, answered in order), with limits on body and header size, a read timeout and a
// connection cap.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/client_address.hpp"
#include "util/timer.hpp"

namespace ticketd::http {

class Router;
struct ServerState;

struct ServerOptions {
    std::string host = "0.0.0.0";
    std::uint16_t port = 3000;  // 0: any free port (see Server::port())
    int threads = 0;            // 0: one per hardware thread
    std::size_t body_limit = 1024 * 1024;
    std::size_t header_limit = 16 * 1024;
    // Longest wait for a whole request (headers and body), counted from the moment the server
    // starts reading it; an idle keep-alive connection is closed after the same time. The write
    // timeout bounds sending a response. Both are checked by a periodic sweep (every quarter of
    // the shorter, between 10 ms and 1 s), so a connection closes up to one period late.
    std::chrono::milliseconds read_timeout{30000};
    std::chrono::milliseconds write_timeout{30000};
    // At the cap a new connection is still served: the one that has waited longest for its
    // client (idle keep-alive, or never sent a whole request) is closed to make room. Only when
    // every connection is busy is the newcomer answered 503.
    std::size_t max_connections = 10000;
    // Connections from one address (0: no cap), with the same rule among them. Trusted proxies
    // are exempt: they carry everyone.
    std::size_t max_connections_per_address = 256;
    // Peers whose X-Forwarded-For names the client (Request::client_address).
    AddressSet trusted_proxies;
    // Request bodies being received, all connections together (each counts its Content-Length,
    // or the body limit when chunked). A request that would go over is answered 503.
    std::size_t body_memory = 64 * 1024 * 1024;
    // After an error answered before the request was read (413, 431, 400), unread input is
    // drained for up to this long, so that the client reads the answer instead of a reset.
    std::chrono::milliseconds linger{2000};
    // How long stop() lets in-flight requests finish before closing their connections.
    std::chrono::milliseconds shutdown_grace{10000};
    bool access_log = true;
};

class Server {
public:
    Server(const Router& router, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds the listening socket (no connection is accepted yet). Throws std::runtime_error naming
    // the address when it cannot bind. Lets the caller find a taken port before starting work.
    void listen();
    // Binds (unless listen() already did) and starts accepting on the thread pool.
    void start();
    std::uint16_t port() const;

    // Blocks until SIGINT or SIGTERM arrives (or request_stop() is called).
    void wait_for_signal();
    void request_stop();

    // Graceful: stops accepting, closes idle connections, lets in-flight requests finish (up to
    // shutdown_grace), then stops the threads. Idempotent.
    void stop();

    std::size_t open_connections() const;

    // Runs `fn` on one of the server's threads (never inline).
    void post(std::function<void()> fn);
    // A timer whose callbacks run on the server's threads.
    std::unique_ptr<util::Timer> make_timer();

private:
    std::unique_ptr<ServerState> impl_;
};

}  // namespace ticketd::http
