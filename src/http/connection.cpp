#include "http/connection.hpp"

#include <array>
#include <atomic>
#include <cctype>
#include <cstring>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "http/api_error.hpp"
#include "http/router.hpp"
#include "http/server_state.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"

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
    std::uint64_t n =
        next.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed);  // odd step: full period
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

class HttpConnection final : public Connection {
public:
    // The connection is already counted in `connections`; the destructor uncounts it.
    HttpConnection(tcp::socket&& socket, ServerState& server)
        : stream_(std::move(socket)), server_(server) {
        beast::error_code ec;
        auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec) remote_ = ep.address().to_string();
    }
    ~HttpConnection() override {
        release_body();
        server_.connection_closed(entry_, remote_);
    }

    Clock::rep waiting_since() const override {
        return waiting_since_.load(std::memory_order_relaxed);
    }
    void evict() override {
        net::post(stream_.get_executor(), [self = shared()] {
            if (self->waiting_since() != 0) return self->close();
            // It got a whole request meanwhile: it stays, and may be chosen again later.
            std::lock_guard lock(self->server_.mutex);
            self->evicted = false;
        });
    }

    bool overdue(Clock::time_point now) const override {
        auto d = deadline_.load(std::memory_order_relaxed);
        return d != 0 && d <= now.time_since_epoch().count();
    }

    // Posted by the sweep. The pending read or write then completes with an error and the
    // connection ends.
    void time_out() override {
        net::post(stream_.get_executor(), [self = shared()] {
            if (self->overdue(Clock::now())) self->close();
        });
    }

    // Joins the server's list of connections (for timeouts and stop()), then starts reading.
    void start() {
        {
            std::lock_guard lock(server_.mutex);
            entry_ = server_.open.insert(server_.open.end(), this);
            ++server_.per_address[remote_].connections;
        }
        net::dispatch(stream_.get_executor(), [self = shared()] { self->read_request(); });
    }

    void shutdown() override {
        net::post(stream_.get_executor(), [self = shared()] {
            self->closing_ = true;
            if (!self->busy_) {
                beast::error_code ec;
                self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
                self->stream_.cancel();
            }
        });
    }

private:
    std::shared_ptr<HttpConnection> shared() {
        return std::static_pointer_cast<HttpConnection>(shared_from_this());
    }
    void arm(std::chrono::milliseconds timeout) {
        deadline_.store((Clock::now() + timeout).time_since_epoch().count(),
                        std::memory_order_relaxed);
    }
    void disarm() { deadline_.store(0, std::memory_order_relaxed); }

    void read_request() {
        if (closing_) return close();
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
        parser_->body_limit(server_.options.body_limit);
        arm(server_.options.read_timeout);
        waiting_since_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
        bhttp::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared()](beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        busy_ = true;
        started_ = Clock::now();
        if (!parser_->is_done()) {
            // The body will be held in memory: count it against the server's budget first.
            auto length = parser_->content_length();
            std::size_t need =
                length ? static_cast<std::size_t>(*length) : server_.options.body_limit;
            if (!server_.reserve_body(remote_, need)) return reply_error(503, "Server busy, retry");
            body_reserved_ = need;
        }
        auto& h = parser_->get();
        auto expect = h.find(bhttp::field::expect);
        if (expect != h.end() && beast::iequals(expect->value(), "100-continue")) {
            auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
            net::async_write(stream_, net::buffer(*cont),
                             [self = shared(), cont](beast::error_code ec, std::size_t) {
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
                          [self = shared()](beast::error_code ec, std::size_t) {
                              if (ec) return self->on_read_error(ec);
                              self->on_request();
                          });
    }

    void on_read_error(beast::error_code ec) {
        if (ec == bhttp::error::body_limit) return reply_error(413, "Request body too large");
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
        for (const auto& f : message)
            req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
        req.body = std::move(message.body());
        req.remote_address = remote_;
        const auto& trusted =
            server_.options.trusted_proxies;  // none by default: no header to look for
        req.client_address = trusted.empty()
                                 ? remote_
                                 : client_address(remote_, req.header("x-forwarded-for"), trusted);
        req.request_id = request_id_from(req);
        keep_alive_ = message.keep_alive() && !server_.stopping;
        head_ = message.method() == bhttp::verb::head;

        Request log_copy;  // what the access log needs once the response is written
        log_copy.method = req.method;
        log_copy.path = req.path;
        log_copy.request_id = req.request_id;
        auto self = shared();
        server_.router.dispatch(
            std::move(req), [self, log_copy = std::move(log_copy)](Response r) mutable {
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
        auto self = shared();
        bhttp::async_write(
            stream_, *res,
            [self, res, req = std::move(req), status = r.status, size](
                beast::error_code ec, std::size_t) { self->after_write(ec, req, status, size); });
    }

    void after_write(beast::error_code ec, const Request& req, int status, std::size_t size) {
        if (server_.options.access_log) {
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_)
                          .count();
            char ms[32];
            std::snprintf(ms, sizeof ms, "%.3f", static_cast<double>(us) / 1000.0);
            log::info("request", {{"method", req.method},
                                  {"path", req.path},
                                  {"status", std::to_string(status)},
                                  {"ms", ms},
                                  {"bytes", std::to_string(size)},
                                  {"request_id", req.request_id}});
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
                                [self = shared(), left](beast::error_code ec, std::size_t n) {
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
    ServerState& server_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    bool keep_alive_ = true;
    bool head_ = false;
    bool busy_ = false;
    bool closing_ = false;
    bool linger_ = false;
    std::size_t body_reserved_ = 0;
    std::unique_ptr<std::array<char, 16384>> drain_buffer_;
    std::atomic<Clock::rep> waiting_since_{0};
    Clock::time_point started_{};
    std::atomic<Clock::rep> deadline_{0};                    // 0: no read or write under way
    std::optional<std::list<Connection*>::iterator> entry_;  // set by start()
};

}  // namespace

void serve_connection(tcp::socket&& socket, ServerState& state) {
    std::make_shared<HttpConnection>(std::move(socket), state)->start();
}

}  // namespace ticketd::http
