#include <catch2/catch.hpp>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

using namespace ticketd;

TEST_CASE("the server answers /healthz on an ephemeral port", "[http]") {
    test::TestServer app({}, [] { auto o = test::TestServer::default_options(); o.builtin_modules = false; return o; }());
    test::HttpClient client(app.port());
    auto res = client.get("/healthz");
    CHECK(res.status == 200);
    CHECK(res.body == R"({"status":"ok"})");
}
