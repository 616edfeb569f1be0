// libFuzzer: raw bytes as an HTTP request, through Beast's parser (with the server's limits), the
// router, the session and cross-site steps, JSON body validation and the real handlers on
// in-memory databases. Every answer must be a valid status, and errors must have the API's shape.
#include <cstdlib>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include "app/app.hpp"
#include "http/router.hpp"
#include "util/log.hpp"

using namespace ticketd;
namespace bhttp = boost::beast::http;

static App& app() {
    static App* instance = [] {
        log::configure(log::Level::error, log::Format::text);
        Config c;
        c.data_dir = ":memory:";
        c.jwt_key = "fuzz-key-0123456789abcdef0123456789";
        c.order_wait_ms = 0;  // the app is not started: no timer would ever end a wait
        return new App(c);
    }();
    return *instance;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (ec || !parser.is_done()) return 0;
    auto message = parser.release();
    http::Request req;
    req.method = std::string(message.method_string());
    req.target = std::string(message.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : message)
        req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    req.body = std::move(message.body());
    req.remote_address = "127.0.0.1";
    req.request_id = "fuzz";
    auto res = app().router().handle(std::move(req));
    if (res.status < 200 || res.status > 599) std::abort();
    if (res.status >= 400) {
        auto v = boost::json::parse(res.body, ec);
        if (ec || !v.is_object() || !v.as_object().contains("errors")) std::abort();
        if (res.status == 500) std::abort();  // input must never cause an internal error
    }
    return 0;
}
