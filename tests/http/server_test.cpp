#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <thread>

#include "http/router.hpp"
#include "http/server.hpp"
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

TEST_CASE("a second server on the same data directory is refused; the first keeps serving", "[http]") {
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

TEST_CASE("a server whose port is taken fails to start, naming the address, and shuts down cleanly", "[http]") {
    test::TestServer running({}, probe_only());
    test::TempDir dir;
    auto config = test::test_config(dir.path());
    config.port = running.port();
    {
        App app(config, probe_only());
        REQUIRE_THROWS_WITH(app.start(), Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(running.port())));
    }  // destroying it after the failed start must not touch closed databases
    // Its data directory is usable at once by a server on a free port.
    test::TestServer later(dir.path(), {}, probe_only());
    test::HttpClient client(later.port());
    CHECK(client.post("/test/probe", R"({"title":"x"})").status == 201);
}

TEST_CASE("a body over 1 MiB is refused with 413 in the error shape", "[http]") {
    test::TestServer app({}, probe_only());
    test::HttpClient client(app.port());
    auto res = client.post("/test/probe", "{\"title\":\"" + std::string(1024 * 1024 + 10, 'a') + "\"}");
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
    for (std::string raw : {std::string("GARBAGE\r\n\r\n"),
                            std::string("GET /healthz HTTP/9.9\r\n\r\n"),
                            std::string("POST /test/probe HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
                            std::string("POST /test/probe HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
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
    client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/nope HTTP/1.1\r\nHost: x\r\n\r\n"
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

TEST_CASE("a client that stops reading its response is disconnected after the write timeout", "[http]") {
    const std::string big(32 * 1024 * 1024, 'x');
    http::Router router;
    router.get("/big", [&big](const http::Request&) { return http::text_response(200, big, "text/plain"); });
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

TEST_CASE("connections beyond the cap are refused with 503", "[http]") {
    test::TestServer app([](Config& c) { c.max_connections = 2; }, probe_only());
    test::HttpClient a(app.port()), b(app.port());
    CHECK(a.get("/healthz").status == 200);
    CHECK(b.get("/healthz").status == 200);
    test::HttpClient c(app.port());
    c.send_raw("GET /healthz HTTP/1.1\r\n\r\n");
    auto res = c.read_response(std::chrono::seconds(5));
    REQUIRE(res);
    CHECK(res->status == 503);
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
