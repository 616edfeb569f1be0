#pragma once
// One client connection, as the listener sees it (server.cpp): it counts it, may time it out,
// evict it to make room or shut it down. The HTTP work is in connection.cpp. Private to src/http.
#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

namespace ticketd::http {

struct ServerState;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    using Clock = std::chrono::steady_clock;
    virtual ~Connection() = default;

    const std::string& address() const { return remote_; }
    bool evicted = false;  // chosen to make room (guarded by ServerState::mutex)
    // When it started waiting for its client (a request not yet whole); 0 while it works on one.
    virtual Clock::rep waiting_since() const = 0;
    // Closes the connection to make room for another, unless it got a whole request meanwhile.
    virtual void evict() = 0;
    // Whether the current read or write has outlived its timeout (any thread may ask).
    virtual bool overdue(Clock::time_point now) const = 0;
    // Closes the connection if it is still overdue once on its strand.
    virtual void time_out() = 0;
    // An idle connection closes now; a busy one closes after its response.
    virtual void shutdown() = 0;

protected:
    std::string remote_;  // the peer's address; set by the connection's constructor
};

// Starts serving `socket`, already counted in state.connections (the connection uncounts itself
// when it ends): it joins state.open, then reads requests.
void serve_connection(boost::asio::ip::tcp::socket&& socket, ServerState& state);

}  // namespace ticketd::http
