// The ceiling for any route: a bare Beast server answering {"status":"ok"} to every request,
// built with the same compiler flags and the same separately compiled Asio/Beast as ticketd.
// Usage: ticketd_hello PORT [THREADS]
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket s) : stream_(std::move(s)) {}
    void read() {
        req_ = {};
        http::async_read(stream_, buffer_, req_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return;
                             self->write();
                         });
    }

private:
    void write() {
        res_ = {};
        res_.version(11);
        res_.result(http::status::ok);
        res_.set(http::field::content_type, "application/json");
        res_.keep_alive(req_.keep_alive());
        res_.body() = R"({"status":"ok"})";
        res_.prepare_payload();
        http::async_write(stream_, res_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec || !self->res_.keep_alive()) return;
                              self->read();
                          });
    }
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
};

int main(int argc, char** argv) {
    unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 8080;
    int threads = argc > 2 ? std::atoi(argv[2]) : 1;
    net::io_context ioc(threads);
    tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), port});
    std::function<void()> accept = [&] {
        acceptor.async_accept(net::make_strand(ioc), [&](beast::error_code ec, tcp::socket s) {
            if (!ec) std::make_shared<Session>(std::move(s))->read();
            accept();
        });
    };
    accept();
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
}
