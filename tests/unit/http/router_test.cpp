#include "http/router.hpp"

#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "http/api_error.hpp"
#include "http/json_body.hpp"

using namespace ticketd::http;

namespace {

Request make(std::string method, std::string target, std::string body = {},
             std::string type = "application/json") {
    Request r;
    r.method = std::move(method);
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.push_back({"Content-Type", type});
    return r;
}

Router sample() {
    Router router;
    router.get("/api/tickets", [](const Request&) { return json(200, boost::json::array{}); });
    router.get("/api/tickets/:id", [](const Request& req) {
        return json(200, boost::json::object{{"id", req.param("id")}});
    });
    router.put("/api/tickets/:id", [](const Request&) { return json(200, boost::json::object{}); });
    router.post("/api/tickets", [](const Request& req) {
        auto body = json_object(req);
        auto title = required_string(body, "title", "Title is required");
        return json(201, boost::json::object{{"title", title}});
    });
    router.post("/api/validate", [](const Request&) -> Response {
        Validation v;
        v.fail("Title is required", "title");
        v.fail("Price must be greater than 0", "price");
        v.throw_if_failed();
        return json(200, boost::json::object{});
    });
    router.get("/api/crash", [](const Request&) -> Response {
        throw std::runtime_error("database password is hunter2");
    });
    return router;
}

boost::json::value body_of(const Response& r) { return boost::json::parse(r.body); }

}  // namespace

TEST_CASE("a path parameter is matched and percent-decoded", "[router]") {
    auto router = sample();
    auto res = router.handle(make("GET", "/api/tickets/abc%20d"));
    CHECK(res.status == 200);
    CHECK(body_of(res).at("id") == "abc d");
    CHECK(router.handle(make("GET", "/api/tickets/")).status == 200);  // trailing slash ignored
}

TEST_CASE("an unknown path is a 404 in the error shape", "[router]") {
    auto router = sample();
    for (auto target : {"/nope", "/api/tickets/a/b", "/api//tickets", "", "api/tickets"}) {
        auto res = router.handle(make("GET", target));
        CHECK(res.status == 404);
        CHECK(res.body == R"({"errors":[{"message":"Not Found"}]})");
        CHECK(res.header("content-type").value().starts_with("application/json"));
    }
}

TEST_CASE("a known path with another method is a 405 naming the allowed methods", "[router]") {
    auto router = sample();
    auto res = router.handle(make("DELETE", "/api/tickets/7"));
    CHECK(res.status == 405);
    CHECK(res.header("allow") == "GET, HEAD, PUT");
    CHECK(body_of(res).at("errors").at(0).at("message") == "Method Not Allowed");
    CHECK(router.handle(make("PATCH", "/api/tickets")).status == 405);
    CHECK(router.handle(make("HEAD", "/api/tickets")).status == 200);
}

TEST_CASE("a validation error reports every invalid field", "[router]") {
    auto router = sample();
    auto res = router.handle(make("POST", "/api/validate", "{}"));
    CHECK(res.status == 400);
    CHECK(res.body == R"({"errors":[{"message":"Title is required","field":"title"},)"
                      R"({"message":"Price must be greater than 0","field":"price"}]})");
}

TEST_CASE("malformed or non-JSON bodies are 400s with a clear message", "[router]") {
    auto router = sample();
    auto msg = [&](Request r) {
        auto res = router.handle(std::move(r));
        CHECK(res.status == 400);
        return std::string(body_of(res).at("errors").at(0).at("message").as_string());
    };
    CHECK(msg(make("POST", "/api/tickets", "{\"title\":")) == "Malformed JSON body");
    CHECK(msg(make("POST", "/api/tickets", "[1,2]")) == "Malformed JSON body");
    CHECK(msg(make("POST", "/api/tickets", "\"str\"")) == "Malformed JSON body");
    CHECK(msg(make("POST", "/api/tickets", "title=x", "application/x-www-form-urlencoded")) ==
          "Request body must be JSON");
    CHECK(msg(make("POST", "/api/tickets", R"({"title": 5})")) == "Title is required");
    CHECK(msg(make("POST", "/api/tickets", R"({"title": "   "})")) == "Title is required");
    auto ok = router.handle(
        make("POST", "/api/tickets", R"({"title": "  Gig  "})", "application/json; charset=utf-8"));
    CHECK(ok.status == 201);
    CHECK(body_of(ok).at("title") == "Gig");
}

TEST_CASE("an unexpected exception is a 500 that reveals nothing", "[router]") {
    auto router = sample();
    auto res = router.handle(make("GET", "/api/crash"));
    CHECK(res.status == 500);
    CHECK(res.body == R"({"errors":[{"message":"Something went wrong"}]})");
}

TEST_CASE("steps run before handlers and can refuse a request", "[router]") {
    auto router = sample();
    router.before([](Request& req) {
        if (req.header("x-block")) throw ApiError(403, "Cross-site request refused");
    });
    auto blocked = make("GET", "/api/tickets");
    blocked.headers.push_back({"X-Block", "1"});
    CHECK(router.handle(blocked).status == 403);
    CHECK(router.handle(make("GET", "/api/tickets")).status == 200);
}

TEST_CASE("an asynchronous handler can answer later or fail", "[router]") {
    Router router;
    router.add_async("GET", "/later", [](const Request& req, Reply reply) {
        std::thread([reply, id = req.request_id] {
            reply(json(200, boost::json::object{{"id", id}}));
        }).detach();
    });
    router.add_async("GET", "/fails", [](const Request&, Reply reply) {
        std::thread([reply] {
            reply.fail(std::make_exception_ptr(ApiError::bad_request("Your card was declined.")));
        }).detach();
    });
    auto req = make("GET", "/later");
    req.request_id = "r1";
    CHECK(body_of(router.handle(req)).at("id") == "r1");
    auto failed = router.handle(make("GET", "/fails"));
    CHECK(failed.status == 400);
    CHECK(body_of(failed).at("errors").at(0).at("message") == "Your card was declined.");
}

TEST_CASE("registering a route twice is a programming error", "[router]") {
    Router router;
    router.get("/a/:id", [](const Request&) { return Response{}; });
    CHECK_THROWS_AS(router.get("/a/:other", [](const Request&) { return Response{}; }),
                    std::logic_error);
}

TEST_CASE("query parameters and cookies are parsed", "[router]") {
    Request r = make("GET", "/x?limit=10&q=a%20b+c&empty=");
    r.headers.push_back({"Cookie", "a=1; session=eyJqd3QiOiJ4In0=; b=2"});
    CHECK(r.query_param("limit") == "10");
    CHECK(r.query_param("q") == "a b c");
    CHECK(r.query_param("empty") == "");
    CHECK(!r.query_param("missing"));
    CHECK(r.cookie("session") == "eyJqd3QiOiJ4In0=");
    CHECK(!r.cookie("nope"));
}
