#include "http/server.hpp"

#include <mutex>
#include <optional>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "http/router.hpp"
#include "support/http_client.hpp"
#include "support/probe_module.hpp"
#include "support/test_server.hpp"

using namespace ticketd;

namespace {

AppOptions probe_only() {
    auto o = test::TestServer::default_options();
    o.builtin_modules = false;
    o.extra_modules.push_back(test::probe_module());
    return o;
}

std::string first_message(const test::HttpResponse& res) {
    return std::string(boost::json::parse(res.body).at("errors").at(0).at("message").as_string());
}

}  // namespace

TEST_CASE("the server answers health and readiness checks on an ephemeral port", "[http]") {
    test::TestServer app({}, probe_only());
    test::HttpClient client(app.port());
    auto health = client.get("/healthz");
    CHECK(health.status == 200);
    CHECK(health.body == R"({"status":"ok"})");
    CHECK(health.header("x-request-id").has_value());
    auto ready = client.get("/readyz");
    CHECK(ready.status == 200);
    // Public: it says whether, not what (no database names, no bus state).
    CHECK(ready.body == R"({"status":"ready"})");
}

TEST_CASE("a module publishes over HTTP and its listener sees the event", "[http][bus]") {
    test::TestServer app({}, probe_only());
    test::HttpClient client(app.port());
    CHECK(client.post("/test/probe", R"({"title":"hello"})").status == 201);
    CHECK(client.post("/test/probe", R"({"title":"world"})").status == 201);
    app.wait_idle();
    CHECK(client.get("/test/probe").body == R"(["hello","world"])");
}

TEST_CASE("events published before a restart are delivered after it", "[http][bus]") {
    test::TempDir dir;
    {
        test::TestServer app(dir.path(), {}, probe_only());
        test::HttpClient client(app.port());
        CHECK(client.post("/test/probe", R"({"title":"before"})").status == 201);
        app.wait_idle();
    }
    test::TestServer app(dir.path(), {}, probe_only());
    test::HttpClient client(app.port());
    CHECK(client.post("/test/probe", R"({"title":"after"})").status == 201);
    app.wait_idle();
    CHECK(client.get("/test/probe").body == R"(["before","after"])");
}

TEST_CASE("a second server on the same data directory is refused, and the first keeps serving",
          "[http]") {
    test::TempDir dir;
    {
        test::TestServer first(dir.path(), {}, probe_only());
        REQUIRE_THROWS_WITH(App(test::test_config(dir.path()), probe_only()),
                            Catch::Contains("another ticketd is already using the data directory"));
        test::HttpClient client(first.port());
        CHECK(client.post("/test/probe", R"({"title":"still here"})").status == 201);
        first.wait_idle();
    }
    // The lock goes with the first server.
    test::TestServer again(dir.path(), {}, probe_only());
    test::HttpClient client(again.port());
    CHECK(client.get("/test/probe").body == R"(["still here"])");
}

TEST_CASE("a server whose port is taken fails to start, naming the address, and shuts down cleanly",
          "[http]") {
    test::TestServer running({}, probe_only());
    test::TempDir dir;
    auto config = test::test_config(dir.path());
    config.port = running.port();
    {
        App app(config, probe_only());
        REQUIRE_THROWS_WITH(app.start(), Catch::Contains("cannot listen on 127.0.0.1:" +
                                                         std::to_string(running.port())));
    }  // destroying it after the failed start must not touch closed databases
    // Its data directory is usable at once by a server on a free port.
    test::TestServer later(dir.path(), {}, probe_only());
    test::HttpClient client(later.port());
    CHECK(client.post("/test/probe", R"({"title":"x"})").status == 201);
}

TEST_CASE("a body over 1 MiB is refused with 413 in the error shape", "[http]") {
    test::TestServer app({}, probe_only());
    test::HttpClient client(app.port());
    auto res =
        client.post("/test/probe", "{\"title\":\"" + std::string(1024 * 1024 + 10, 'a') + "\"}");
    CHECK(res.status == 413);
    CHECK(first_message(res) == "Request body too large");
    test::HttpClient again(app.port());
    CHECK(again.get("/test/probe").body == "[]");  // nothing was stored
}

TEST_CASE("unknown paths, wrong methods and server errors keep the error shape", "[http]") {
    test::TestServer app({}, probe_only());
    test::HttpClient client(app.port());
    auto missing = client.get("/api/nothing-here");
    CHECK(missing.status == 404);
    CHECK(first_message(missing) == "Not Found");
    auto wrong = client.del("/test/probe");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("allow") == "GET, HEAD, POST");
    auto boom = client.get("/test/boom");
    CHECK(boom.status == 500);
    CHECK(first_message(boom) == "Something went wrong");
    CHECK(boom.body.find("secret") == std::string::npos);
    auto bad_json = client.post("/test/probe", "{\"title\":");
    CHECK(bad_json.status == 400);
    CHECK(first_message(bad_json) == "Malformed JSON body");
}

TEST_CASE("malformed requests get a 400 and change nothing", "[http]") {
    test::TestServer app({}, probe_only());
    for (std::string raw :
         {std::string("GARBAGE\r\n\r\n"), std::string("GET /healthz HTTP/9.9\r\n\r\n"),
          std::string("POST /test/probe HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
          std::string(
              "POST /test/probe HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
          std::string("GET /\x01 HTTP/1.1\r\n\r\n")}) {
        test::HttpClient client(app.port());
        client.send_raw(raw);
        auto res = client.read_response(std::chrono::seconds(5));
        REQUIRE(res);
        CHECK(res->status == 400);
        CHECK(res->body.find("\"errors\"") != std::string::npos);
    }
    test::HttpClient client(app.port());
    CHECK(client.get("/test/probe").body == "[]");
}

TEST_CASE("pipelined requests on one connection are answered in order", "[http]") {
    test::TestServer app({}, probe_only());
    test::HttpClient client(app.port());
    client.send_raw(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/nope HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    auto a = client.read_response();
    auto b = client.read_response();
    auto c = client.read_response();
    REQUIRE((a && b && c));
    CHECK(a->status == 200);
    CHECK(b->status == 404);
    CHECK(c->status == 200);
    CHECK(c->body.find("ready") != std::string::npos);
}

TEST_CASE("a silent or trickling client is disconnected after the read timeout", "[http]") {
    test::TestServer app([](Config& c) { c.read_timeout_ms = 300; }, probe_only());
    test::HttpClient silent(app.port());
    silent.send_raw("");  // connect, say nothing
    CHECK(silent.closed_by_server(std::chrono::seconds(3)));

    test::HttpClient trickle(app.port());
    trickle.send_raw("GET /healthz HTTP/1.1\r\n");
    bool cut = false;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!cut && std::chrono::steady_clock::now() < until) {
        try {
            trickle.send_raw("X-Slow: 1\r\n");
        } catch (const std::exception&) {
            cut = true;
            break;
        }
        cut = trickle.closed_by_server(std::chrono::milliseconds(100));
    }
    CHECK(cut);
    test::HttpClient fine(app.port());
    CHECK(fine.get("/healthz").status == 200);
}

TEST_CASE("a client that stops reading its response is disconnected after the write timeout",
          "[http]") {
    const std::string big(32 * 1024 * 1024, 'x');
    http::Router router;
    router.get("/big", [&big](const http::Request&) {
        return http::text_response(200, big, "text/plain");
    });
    http::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 1;
    o.access_log = false;
    o.write_timeout = std::chrono::milliseconds(200);
    http::Server server(router, o);
    server.start();

    test::HttpClient client(server.port());
    client.receive_buffer = 4096;  // so the response cannot all be buffered on the client's side
    client.send_raw("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");

    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // not reading
    CHECK(server.open_connections() == 0);
    // What was sent before the cut is still readable; then the connection ends, the response short.
    CHECK_FALSE(client.read_response(std::chrono::seconds(5)).has_value());
    CHECK(client.closed_by_server(std::chrono::seconds(1)));
    server.stop();
}

namespace {

// A bare server whose /hold requests wait until the test lets them go: connections that are busy.
struct HoldingServer {
    http::Router router;
    std::mutex m;
    std::vector<http::Reply> held;
    std::unique_ptr<http::Server> server;
    explicit HoldingServer(std::function<void(http::ServerOptions&)> tweak) {
        router.add_async("GET", "/hold", [this](const http::Request&, http::Reply reply) {
            std::lock_guard lock(m);
            held.push_back(std::move(reply));
        });
        router.get("/fast", [](const http::Request&) {
            return http::text_response(200, "ok", "text/plain");
        });
        router.post("/upload", [](const http::Request& r) {
            return http::text_response(200, std::to_string(r.body.size()), "text/plain");
        });
        http::ServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.threads = 2;
        o.access_log = false;
        tweak(o);
        server = std::make_unique<http::Server>(router, o);
        server->start();
    }
    ~HoldingServer() {
        release();
        server->stop();
    }
    std::size_t holding() {
        std::lock_guard lock(m);
        return held.size();
    }
    void wait_holding(std::size_t n) {
        for (int i = 0; i < 500 && holding() < n; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        REQUIRE(holding() == n);
    }
    void release() {
        std::lock_guard lock(m);
        for (auto& r : held) r(http::text_response(200, "released", "text/plain"));
        held.clear();
    }
};

std::optional<test::HttpResponse> fetch(test::HttpClient& c, const std::string& target) {
    c.send_raw("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    return c.read_response(std::chrono::seconds(5));
}

}  // namespace

TEST_CASE("at the connection cap, the connection idle longest makes room for a newcomer",
          "[http][security]") {
    HoldingServer s([](http::ServerOptions& o) { o.max_connections = 2; });
    test::HttpClient a(s.server->port()), b(s.server->port());
    REQUIRE(fetch(a, "/fast")->status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(fetch(b, "/fast")->status == 200);
    // Both are idle keep-alive connections now; a has been idle longer.
    test::HttpClient c(s.server->port());
    auto res = fetch(c, "/fast");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(a.closed_by_server(std::chrono::seconds(2)));
    CHECK(fetch(b, "/fast")->status == 200);
    // A client that connects and never sends a byte is waiting too: it goes first next time.
    test::HttpClient silent(s.server->port());
    silent.send_raw("");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    test::HttpClient d(s.server->port());
    CHECK(fetch(d, "/fast")->status == 200);
}

TEST_CASE("when every connection is busy, a newcomer gets 503 in the error shape",
          "[http][security]") {
    HoldingServer s([](http::ServerOptions& o) { o.max_connections = 2; });
    test::HttpClient a(s.server->port()), b(s.server->port());
    a.send_raw("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    b.send_raw("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    s.wait_holding(2);
    test::HttpClient c(s.server->port());
    auto res = fetch(c, "/fast");
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(res->header("retry-after") == "1");
    CHECK(res->body.find("\"errors\"") != std::string::npos);
    s.release();
    CHECK(a.read_response()->status == 200);
}

TEST_CASE("one address cannot hold every connection, and other clients are still served",
          "[http][security]") {
    HoldingServer s([](http::ServerOptions& o) {
        o.max_connections = 100;
        o.max_connections_per_address = 2;
    });
    test::HttpClient a(s.server->port()), b(s.server->port());
    a.send_raw("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    b.send_raw("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    s.wait_holding(2);
    test::HttpClient third(s.server->port());
    CHECK(fetch(third, "/fast")->status == 503);
    test::HttpClient other(s.server->port());
    other.source_address = "127.0.0.2";
    CHECK(fetch(other, "/fast")->status == 200);
}

TEST_CASE("at an address's own cap, its connection idle longest makes room for its newcomer",
          "[http][security]") {
    HoldingServer s([](http::ServerOptions& o) {
        o.max_connections = 100;
        o.max_connections_per_address = 2;
    });
    test::HttpClient other(s.server->port());
    other.source_address = "127.0.0.2";
    REQUIRE(fetch(other, "/fast")->status == 200);  // idle longest of all, but not this address's
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    test::HttpClient a(s.server->port()), b(s.server->port());
    REQUIRE(fetch(a, "/fast")->status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(fetch(b, "/fast")->status == 200);
    test::HttpClient c(s.server->port());
    auto res = fetch(c, "/fast");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(a.closed_by_server(std::chrono::seconds(2)));
    CHECK(fetch(other, "/fast")->status == 200);
    CHECK(fetch(b, "/fast")->status == 200);
}

TEST_CASE("request bodies in memory have a budget, and one address gets a quarter of it",
          "[http][security]") {
    HoldingServer s([](http::ServerOptions& o) { o.body_memory = 1000000; });
    auto start_upload = [&](test::HttpClient& c, int length) {
        c.send_raw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(length) +
                   "\r\n\r\n" + std::string(100, 'a'));
    };
    // An upload announced and trickling holds its reservation.
    test::HttpClient slow(s.server->port());
    start_upload(slow, 200000);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The same address cannot take more than a quarter of the budget...
    test::HttpClient greedy(s.server->port());
    start_upload(greedy, 100000);
    auto refused = greedy.read_response();
    REQUIRE(refused);
    CHECK(refused->status == 503);
    CHECK(refused->header("retry-after") == "1");
    // ...while other clients still can, until the whole budget is spoken for.
    std::vector<std::unique_ptr<test::HttpClient>> others;
    for (int i = 2; i <= 4; ++i) {
        others.push_back(std::make_unique<test::HttpClient>(s.server->port()));
        others.back()->source_address = "127.0.0." + std::to_string(i);
        start_upload(*others.back(), 250000);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    test::HttpClient late(s.server->port());
    late.source_address = "127.0.0.5";
    start_upload(late, 100000);
    auto full = late.read_response();
    REQUIRE(full);
    CHECK(full->status == 503);
    // Finished uploads give their share back.
    slow.send_raw(std::string(200000 - 100, 'a'));
    auto done = slow.read_response();
    REQUIRE(done);
    CHECK(done->body == "200000");
    std::optional<test::HttpResponse> after;
    for (int i = 0; i < 100 && !(after && after->status == 200); ++i) {
        test::HttpClient c(s.server->port());
        c.source_address = "127.0.0.6";
        c.send_raw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n");
        after = c.read_response(std::chrono::milliseconds(200));
        if (!after) {  // not refused: it waits for its body
            c.send_raw("0123456789");
            after = c.read_response();
        }
    }
    REQUIRE(after);
    CHECK(after->body == "10");
}

TEST_CASE("a body over the limit is answered 413 that a client still sending can read", "[http]") {
    HoldingServer s([](http::ServerOptions&) {});
    test::HttpClient c(s.server->port());
    // The whole of an 8 MiB upload goes out while the server has already refused it: the server
    // drains it instead of resetting the connection, so the send succeeds and the 413 is read.
    const std::string body(8 * 1024 * 1024, 'x');
    REQUIRE_NOTHROW(c.send_raw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(res->header("connection") == "close");
}

TEST_CASE("stopping the server finishes in-flight requests", "[http]") {
    auto app = std::make_unique<test::TestServer>(std::function<void(Config&)>{}, probe_only());
    test::HttpClient client(app->port());
    CHECK(client.get("/healthz").status == 200);
    std::thread stopper([&] { app->stop(); });
    stopper.join();
    // The idle keep-alive connection was closed; a new one is refused.
    CHECK(client.closed_by_server(std::chrono::seconds(2)));
}

TEST_CASE("request targets that are not a path get a 404, not a 500", "[http][fuzz-regression]") {
    // Found by fuzz_http: a GET whose target has no leading '/' reached the web UI fallback.
    test::TestServer app({}, probe_only());
    for (std::string target : {"?x=1", "*", "http://example.com/", "x"}) {
        test::HttpClient client(app.port());
        client.send_raw("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
        auto res = client.read_response(std::chrono::seconds(5));
        REQUIRE(res);
        INFO(target);
        CHECK(res->status == 404);
        CHECK(res->body.find("\"errors\"") != std::string::npos);
    }
}
