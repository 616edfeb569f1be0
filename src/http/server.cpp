#include "http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <future>
#include <list>
#include <unordered_map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "http/api_error.hpp"
#include "http/router.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "util/thread_name.hpp"

namespace ticketd::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

bool quiet_error(const beast::error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
           ec == beast::error::timeout || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::eof ||
           ec == net::error::not_connected || ec == net::error::bad_descriptor;
}

// 16 hex characters, unique within this process: a random 64-bit start chosen once, then a
// counter. Request ids correlate log lines; they need not be secret, and drawing them from the
// CSPRNG cost every request a lock and a getpid() inside OpenSSL.
std::string new_request_id() {
    static std::atomic<std::uint64_t> next = [] {
        std::uint64_t seed = 0;
        auto bytes = util::random_bytes(sizeof seed);
        std::memcpy(&seed, bytes.data(), sizeof seed);
        return seed;
    }();
    std::uint64_t n = next.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed);  // odd step: full period
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, n >>= 4) out[static_cast<std::size_t>(i)] = digits[n & 15];
    return out;
}

// A client-supplied request id is echoed only if it is short and plain.
std::string request_id_from(const Request& req) {
    if (auto given = req.header("x-request-id"); given && !given->empty() && given->size() <= 64) {
        bool plain = true;
        for (char c : *given)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
                plain = false;
        if (plain) return std::string(*given);
    }
    return new_request_id();
}

}  // namespace

class Session;

struct Server::Impl {
    const Router& router;
    ServerOptions options;
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> connections{0};
    std::uint16_t bound_port = 0;

    // Declared before the io_context: sessions still queued in it are destroyed with it and
    // report their closing here. Each session removes itself from the list in its destructor.
    std::mutex sessions_mutex;
    std::list<Session*> sessions;
    std::condition_variable sessions_cv;
    struct AddressUse {
        std::size_t connections = 0;
        std::size_t body_bytes = 0;  // reserved by its bodies being read
    };
    std::unordered_map<std::string, AddressUse> per_address;  // by peer; guarded by sessions_mutex
    std::size_t body_bytes = 0;                               // all bodies; guarded by sessions_mutex

    std::promise<void> stop_requested;
    std::shared_future<void> stop_future;
    std::once_flag stop_once, request_once;

    net::io_context ioc;
    tcp::acceptor acceptor;
    net::signal_set signals;
    // Read and write timeouts: one timer for the whole server (see sweep()) rather than one armed
    // and cancelled around every read and write, which cost each request two extra handlers.
    net::steady_timer sweeper;
    std::chrono::milliseconds sweep_period;
    std::vector<std::thread> threads;

    Impl(const Router& r, ServerOptions o)
        : router(r),
          options(std::move(o)),
          stop_future(stop_requested.get_future().share()),
          ioc(options.threads > 0 ? options.threads
                                  : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
          acceptor(ioc),
          signals(ioc, SIGINT, SIGTERM),
          sweeper(ioc),
          // A timed-out connection is closed at most a quarter of its timeout late (1 s at most).
          sweep_period(std::clamp(std::min(options.read_timeout, options.write_timeout) / 4,
                                  std::chrono::milliseconds(10), std::chrono::milliseconds(1000))) {}

    void do_accept();
    void sweep();
    // Whether a connection from `address` may be served now, after closing (asynchronously) the
    // one that has waited longest for its client if a cap is reached. False: every connection
    // that counts is busy, and the newcomer gets a 503.
    bool make_room(const std::string& address);
    void session_closed(std::optional<std::list<Session*>::iterator> entry, const std::string& address) {
        std::lock_guard lock(sessions_mutex);
        if (entry) {  // it had joined the list and the count (run())
            sessions.erase(*entry);
            if (auto it = per_address.find(address); it != per_address.end() && --it->second.connections == 0)
                per_address.erase(it);
        }
        --connections;
        sessions_cv.notify_all();
    }
    // Reserves `n` bytes of the request-body budget for a connection from `address`; false if it
    // would go over the server's budget, or over a quarter of it for one address (trusted
    // proxies excepted), so that one client trickling bodies cannot take all of it.
    bool reserve_body(const std::string& address, std::size_t n) {
        std::lock_guard lock(sessions_mutex);
        if (body_bytes + n > options.body_memory) return false;
        auto& use = per_address[address];
        bool exempt = options.trusted_proxies.contains(address);
        if (!exempt && use.body_bytes + n > options.body_memory / 4) return false;
        use.body_bytes += n;
        body_bytes += n;
        return true;
    }
    void release_body(const std::string& address, std::size_t n) {
        std::lock_guard lock(sessions_mutex);
        body_bytes -= n;
        if (auto it = per_address.find(address); it != per_address.end()) it->second.body_bytes -= n;
    }
};

class Session : public std::enable_shared_from_this<Session> {
public:
    // The connection is already counted in `connections`; the destructor uncounts it.
    Session(tcp::socket&& socket, Server::Impl& server)
        : stream_(std::move(socket)), server_(server) {
        beast::error_code ec;
        auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec) remote_ = ep.address().to_string();
    }
    ~Session() {
        release_body();
        server_.session_closed(entry_, remote_);
    }

    const std::string& address() const { return remote_; }
    bool evicted = false;  // chosen to make room (guarded by the server's sessions_mutex)
    // When it started waiting for its client (a request not yet whole); 0 while it works on one.
    Clock::rep waiting_since() const { return waiting_since_.load(std::memory_order_relaxed); }
    // Closes the connection to make room for another, unless it got a whole request meanwhile.
    void evict() {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            if (self->waiting_since() != 0) return self->close();
            // It got a whole request meanwhile: it stays, and may be chosen again later.
            std::lock_guard lock(self->server_.sessions_mutex);
            self->evicted = false;
        });
    }

    // Whether the current read or write has outlived its timeout (any thread may ask).
    bool overdue(Clock::time_point now) const {
        auto d = deadline_.load(std::memory_order_relaxed);
        return d != 0 && d <= now.time_since_epoch().count();
    }

    // Posted by the sweep: closes the connection if it is still overdue once on its strand. The
    // pending read or write then completes with an error and the session ends.
    void time_out() {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            if (self->overdue(Clock::now())) self->close();
        });
    }

    // Joins the server's list of sessions (for timeouts and stop()), then starts reading.
    void run() {
        {
            std::lock_guard lock(server_.sessions_mutex);
            entry_ = server_.sessions.insert(server_.sessions.end(), this);
            ++server_.per_address[remote_].connections;
        }
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
    }

    // Called on stop(): an idle connection closes now; a busy one closes after its response.
    void shutdown() {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            self->closing_ = true;
            if (!self->busy_) {
                beast::error_code ec;
                self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
                self->stream_.cancel();
            }
        });
    }

private:
    void arm(std::chrono::milliseconds timeout) {
        deadline_.store((Clock::now() + timeout).time_since_epoch().count(), std::memory_order_relaxed);
    }
    void disarm() { deadline_.store(0, std::memory_order_relaxed); }

    void read_request() {
        if (closing_) return close();
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
        parser_->body_limit(server_.options.body_limit);
        arm(server_.options.read_timeout);
        waiting_since_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     self->on_header(ec);
                                 });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        busy_ = true;
        started_ = Clock::now();
        if (!parser_->is_done()) {
            // The body will be held in memory: count it against the server's budget first.
            auto length = parser_->content_length();
            std::size_t need = length ? static_cast<std::size_t>(*length) : server_.options.body_limit;
            if (!server_.reserve_body(remote_, need)) return reply_error(503, "Server busy, retry");
            body_reserved_ = need;
        }
        auto& h = parser_->get();
        auto expect = h.find(bhttp::field::expect);
        if (expect != h.end() && beast::iequals(expect->value(), "100-continue")) {
            auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
            net::async_write(stream_, net::buffer(*cont),
                             [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                                 if (ec) return self->close();
                                 self->read_body();
                             });
            return;
        }
        read_body();
    }

    void read_body() {
        if (parser_->is_done()) return on_request();  // no body (a GET): nothing more to read
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->on_read_error(ec);
                              self->on_request();
                          });
    }

    void on_read_error(beast::error_code ec) {
        if (ec == bhttp::error::body_limit)
            return reply_error(413, "Request body too large");
        if (ec == bhttp::error::header_limit)
            return reply_error(431, "Request header fields too large");
        if (quiet_error(ec) || ec == bhttp::error::partial_message) return close();
        // Anything else is a malformed request: say so once, then hang up.
        return reply_error(400, "Bad request");
    }

    void reply_error(int status, std::string message) {
        busy_ = true;
        if (started_ == Clock::time_point{}) started_ = Clock::now();
        keep_alive_ = false;
        linger_ = true;  // the client may still be sending what we will not read
        waiting_since_.store(0, std::memory_order_relaxed);
        Request req;
        req.method = "-";
        req.path = "-";
        req.request_id = new_request_id();
        if (parser_ && parser_->is_header_done()) {
            req.method = std::string(parser_->get().method_string());
            req.path = std::string(parser_->get().target());
        }
        ApiError error(status, std::move(message));
        if (status == 503) error.headers.emplace_back("Retry-After", "1");
        write(error_response(error), std::move(req));
    }

    void on_request() {
        disarm();  // the handler may take its time (an order waiting for its ticket)
        waiting_since_.store(0, std::memory_order_relaxed);
        auto message = parser_->release();
        Request req;
        req.method = std::string(message.method_string());
        req.target = std::string(message.target());
        auto q = req.target.find('?');
        req.path = req.target.substr(0, q);
        if (q != std::string::npos) req.query = req.target.substr(q + 1);
        req.headers.reserve(std::distance(message.begin(), message.end()));
        for (const auto& f : message) req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
        req.body = std::move(message.body());
        req.remote_address = remote_;
        const auto& trusted = server_.options.trusted_proxies;  // none by default: no header to look for
        req.client_address = trusted.empty() ? remote_ : client_address(remote_, req.header("x-forwarded-for"), trusted);
        req.request_id = request_id_from(req);
        keep_alive_ = message.keep_alive() && !server_.stopping;
        head_ = message.method() == bhttp::verb::head;

        Request log_copy;  // what the access log needs once the response is written
        log_copy.method = req.method;
        log_copy.path = req.path;
        log_copy.request_id = req.request_id;
        auto self = shared_from_this();
        server_.router.dispatch(std::move(req), [self, log_copy = std::move(log_copy)](Response r) mutable {
            // Inline when the handler answered on this connection's strand (the usual case);
            // queued onto it when the answer comes from another thread.
            net::dispatch(self->stream_.get_executor(),
                      [self, r = std::move(r), log_copy = std::move(log_copy)]() mutable {
                          self->write(std::move(r), std::move(log_copy));
                      });
        });
    }

    void write(Response r, Request req) {
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
        res->version(11);
        res->result(static_cast<unsigned>(r.status));
        for (auto& h : r.headers) res->insert(h.name, h.value);
        res->set(bhttp::field::server, "ticketd");
        res->set("X-Request-Id", req.request_id);
        if (closing_ || server_.stopping) keep_alive_ = false;
        res->keep_alive(keep_alive_);
        std::size_t size = r.body.size();
        if (r.status == 204 || r.status == 304) {
            // no body, no length
        } else if (head_) {
            res->content_length(size);
        } else {
            res->body() = std::move(r.body);
            res->prepare_payload();
        }
        arm(server_.options.write_timeout);
        auto self = shared_from_this();
        bhttp::async_write(stream_, *res,
                           [self, res, req = std::move(req), status = r.status, size](
                               beast::error_code ec, std::size_t) {
                               self->after_write(ec, req, status, size);
                           });
    }

    void after_write(beast::error_code ec, const Request& req, int status, std::size_t size) {
        if (server_.options.access_log) {
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count();
            char ms[32];
            std::snprintf(ms, sizeof ms, "%.3f", static_cast<double>(us) / 1000.0);
            log::info("request", {{"method", req.method}, {"path", req.path},
                                  {"status", std::to_string(status)}, {"ms", ms},
                                  {"bytes", std::to_string(size)}, {"request_id", req.request_id}});
        }
        busy_ = false;
        started_ = {};
        head_ = false;
        release_body();
        if (!ec && linger_) return drain();
        if (ec || !keep_alive_) return close();
        read_request();
    }

    void release_body() {
        if (body_reserved_) server_.release_body(remote_, std::exchange(body_reserved_, 0));
    }

    // Lingering close, as nginx does: say we are done (FIN), then read and discard what the
    // client still sends until it closes, `linger` passes (the sweep closes it then: the deadline
    // is set once, not per read) or 16 MiB went by. Closing with unread input would reset the
    // connection, and many clients would then report the reset instead of the answer they were
    // sent. A lingering connection waits for its client: it is the first to make room.
    void drain() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        arm(server_.options.linger);
        waiting_since_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
        drain_buffer_ = std::make_unique<std::array<char, 16384>>();
        drain_some(16 * 1024 * 1024);
    }
    void drain_some(std::size_t left) {
        stream_.async_read_some(net::buffer(*drain_buffer_),
                                [self = shared_from_this(), left](beast::error_code ec, std::size_t n) {
                                    if (ec || n >= left) return self->close();
                                    self->drain_some(left - n);
                                });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    beast::tcp_stream stream_;
    Server::Impl& server_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::string remote_;
    bool keep_alive_ = true;
    bool head_ = false;
    bool busy_ = false;
    bool closing_ = false;
    bool linger_ = false;
    std::size_t body_reserved_ = 0;
    std::unique_ptr<std::array<char, 16384>> drain_buffer_;
    std::atomic<Clock::rep> waiting_since_{0};
    Clock::time_point started_{};
    std::atomic<Clock::rep> deadline_{0};  // 0: no read or write under way
    std::optional<std::list<Session*>::iterator> entry_;  // set by run()
};

void Server::Impl::sweep() {
    sweeper.expires_after(sweep_period);
    sweeper.async_wait([this](beast::error_code ec) {
        if (ec) return;
        std::vector<std::shared_ptr<Session>> overdue;
        auto now = Clock::now();
        {
            std::lock_guard lock(sessions_mutex);
            for (Session* s : sessions)
                if (s->overdue(now))
                    // Null when the session is already being destroyed (its destructor waits
                    // for this lock); the pointers are released after the lock.
                    if (auto alive = s->weak_from_this().lock()) overdue.push_back(std::move(alive));
        }
        for (auto& s : overdue) s->time_out();
        overdue.clear();
        sweep();
    });
}

bool Server::Impl::make_room(const std::string& address) {
    std::shared_ptr<Session> victim;
    {
        std::lock_guard lock(sessions_mutex);
        bool exempt = options.max_connections_per_address == 0 || options.trusted_proxies.contains(address);
        auto mine = per_address.find(address);
        bool address_full =
            !exempt && mine != per_address.end() && mine->second.connections >= options.max_connections_per_address;
        if (!address_full && connections.load() < options.max_connections) return true;
        // The one that has waited longest for its client: among this address's own when its cap
        // is what is reached, else among all.
        Clock::rep oldest = 0;
        Session* pick = nullptr;
        for (Session* s : sessions) {
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

void Server::Impl::do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
            log::warn("accept failed", {{"error", ec.message()}});
            if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space) {
                // Out of file descriptors: pause briefly instead of spinning.
                auto timer = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(50));
                timer->async_wait([this, timer](beast::error_code) { do_accept(); });
                return;
            }
            return do_accept();
        }
        if (stopping) return;
        beast::error_code ep_ec;
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
            net::async_write(*s, net::buffer(busy), [s](beast::error_code, std::size_t) {
                beast::error_code ignored;
                s->shutdown(tcp::socket::shutdown_both, ignored);
                s->close(ignored);
            });
            return do_accept();
        }
        ++connections;
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), *this)->run();
        do_accept();
    });
}

Server::Server(const Router& router, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

Server::~Server() { stop(); }

void Server::listen() {
    auto& i = *impl_;
    if (i.acceptor.is_open()) return;
    beast::error_code ec;
    auto address = net::ip::make_address(i.options.host, ec);
    if (ec) throw std::runtime_error("invalid listen address " + i.options.host);
    tcp::endpoint ep{address, i.options.port};
    i.acceptor.open(ep.protocol(), ec);
    if (!ec) i.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) i.acceptor.bind(ep, ec);
    if (!ec) i.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        beast::error_code ignored;
        i.acceptor.close(ignored);
        throw std::runtime_error("cannot listen on " + i.options.host + ":" +
                                 std::to_string(i.options.port) + ": " + ec.message());
    }
    i.bound_port = i.acceptor.local_endpoint().port();
}

void Server::start() {
    listen();
    auto& i = *impl_;
    i.signals.async_wait([this](beast::error_code ec, int signal) {
        if (ec) return;
        log::info("signal received, shutting down", {{"signal", std::to_string(signal)}});
        request_stop();
    });
    i.do_accept();
    i.sweep();
    int n = i.options.threads > 0 ? i.options.threads
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
            beast::error_code ec;
            i.acceptor.close(ec);
            i.signals.cancel(ec);
        });
        std::vector<std::shared_ptr<Session>> live;
        {
            std::lock_guard lock(i.sessions_mutex);
            for (Session* s : i.sessions)
                if (auto alive = s->weak_from_this().lock()) live.push_back(std::move(alive));
        }
        for (auto& s : live) s->shutdown();
        live.clear();
        {
            std::unique_lock lock(i.sessions_mutex);
            if (!i.sessions_cv.wait_for(lock, i.options.shutdown_grace, [&i] { return i.connections == 0; }))
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
        timer_.async_wait([fire = std::move(fire)](beast::error_code ec) {
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

std::unique_ptr<util::Timer> Server::make_timer() { return std::make_unique<AsioTimer>(impl_->ioc); }

}  // namespace ticketd::http
