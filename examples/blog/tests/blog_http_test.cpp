// The blog's routes and errors (../shared/BLOG.md) against the real server on an ephemeral port.
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "blog_server.hpp"

using blog::test::BlogServer;
using blog::test::comment;
using blog::test::create_post;
using blog::test::posts;
using blog::test::TempDir;
using ticketd::test::HttpClient;
namespace json = boost::json;

namespace {

json::value body_of(const ticketd::test::HttpResponse& r) { return json::parse(r.body); }

std::string first_error(const ticketd::test::HttpResponse& r) {
    return std::string(body_of(r).at("errors").at(0).at("message").as_string());
}

// Polls GET /posts until `done` holds (moderation is asynchronous), for at most 10 s.
json::object posts_when(HttpClient& c, const std::function<bool(const json::object&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        auto p = posts(c);
        if (done(p) || std::chrono::steady_clock::now() > deadline) return p;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool all_decided(const json::object& p) {
    for (const auto& [id, post] : p)
        for (const auto& c : post.at("comments").as_array())
            if (c.at("status").as_string() == "pending") return false;
    return true;
}

}  // namespace

TEST_CASE("a post is created and the view lists every post in creation order with a comments array",
          "[blog]") {
    TempDir dir;
    BlogServer server(dir.path());
    HttpClient c(server.port());
    auto r = c.post("/posts/create",
                    R"({"title":"  Hello 'world' \"; DROP TABLE posts; -- ünïcødé 🎉  "})");
    REQUIRE(r.status == 201);
    auto created = body_of(r).as_object();
    std::string first = std::string(created.at("id").as_string());
    CHECK(created.at("title").as_string() == "Hello 'world' \"; DROP TABLE posts; -- ünïcødé 🎉");
    CHECK(first.find_first_not_of("0123456789abcdef") == std::string::npos);
    std::string second = create_post(c, "Second");
    std::string third = create_post(c, "Third");
    auto view = posts_when(c, [](const json::object& p) { return p.size() == 3; });
    REQUIRE(view.size() == 3);
    std::vector<std::string> order;
    for (const auto& [id, post] : view) {
        order.emplace_back(id);
        CHECK(post.at("id").as_string() == id);
        CHECK(post.at("comments").as_array().empty());
    }
    CHECK(order == std::vector<std::string>{first, second, third});
    CHECK(view.at(first).at("title").as_string() == created.at("title").as_string());
}

TEST_CASE("a bad title is refused in the error shape and creates nothing", "[blog]") {
    TempDir dir;
    BlogServer server(dir.path());
    HttpClient c(server.port());
    auto missing = c.post("/posts/create", "{}");
    CHECK(missing.status == 400);
    CHECK(body_of(missing) ==
          json::parse(R"({"errors":[{"message":"Title is required","field":"title"}]})"));
    CHECK(first_error(c.post("/posts/create", R"({"title":"   "})")) == "Title is required");
    CHECK(first_error(c.post("/posts/create", R"({"title":42})")) == "Title is required");
    // Unicode's spaces too: NBSP, EM SPACE, IDEOGRAPHIC SPACE.
    CHECK(first_error(c.post("/posts/create", R"({"title":"\u00a0\u2003\u3000"})")) ==
          "Title is required");
    std::string emoji200;
    for (int i = 0; i < 200; ++i) emoji200 += "🎉";
    CHECK(c.post("/posts/create", json::serialize(json::object{{"title", emoji200}})).status ==
          201);
    auto too_long =
        c.post("/posts/create", json::serialize(json::object{{"title", emoji200 + "x"}}));
    CHECK(too_long.status == 400);
    CHECK(first_error(too_long) == "Title must be at most 200 characters");
    CHECK(c.post("/posts/create", "{not json").status == 400);
    server.wait_idle();
    CHECK(posts(c).size() == 1);
}

TEST_CASE("a comment is answered with the post's comments oldest first and the new one pending",
          "[blog]") {
    TempDir dir;
    BlogServer server(dir.path());
    HttpClient c(server.port());
    // Commented on the moment it is created: the comments module waits for the post's event.
    auto post = create_post(c, "Post");
    auto first = comment(c, post, "first");
    REQUIRE(first.status == 201);
    auto list = body_of(first).as_array();
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("content").as_string() == "first");
    CHECK(list[0].at("status").as_string() == "pending");
    auto second = body_of(comment(c, post, "  second  ")).as_array();
    REQUIRE(second.size() == 2);
    CHECK(second[0].at("id") == list[0].at("id"));
    CHECK(second[1].at("content").as_string() == "second");
    CHECK(second[1].at("status").as_string() == "pending");
    auto got = c.get("/posts/" + post + "/comments");
    REQUIRE(got.status == 200);
    auto all = body_of(got).as_array();
    REQUIRE(all.size() == 2);
    CHECK(all[0].at("content").as_string() == "first");
    CHECK(all[1].at("content").as_string() == "second");
}

TEST_CASE("a bad comment is refused and an unknown post is 404 after the wait", "[blog]") {
    TempDir dir;
    BlogServer server(dir.path(), [](blog::Config& c) { c.post_wait_ms = 300; });
    HttpClient c(server.port());
    auto post = create_post(c, "Post");
    auto missing = c.post("/posts/" + post + "/comments", "{}");
    CHECK(missing.status == 400);
    CHECK(body_of(missing) ==
          json::parse(R"({"errors":[{"message":"Content is required","field":"content"}]})"));
    CHECK(first_error(comment(c, post, " \t ")) == "Content is required");
    CHECK(comment(c, post, std::string(1000, 'a')).status == 201);
    auto too_long = comment(c, post, std::string(1001, 'a'));
    CHECK(too_long.status == 400);
    CHECK(first_error(too_long) == "Content must be at most 1000 characters");
    auto started = std::chrono::steady_clock::now();
    auto unknown = comment(c, "0123456789abcdef0123456789abcdef", "hello");
    auto waited = std::chrono::steady_clock::now() - started;
    CHECK(unknown.status == 404);
    CHECK(first_error(unknown) == "Not Found");
    CHECK(waited >= std::chrono::milliseconds(250));
    CHECK(c.get("/posts/0123456789abcdef0123456789abcdef/comments").status == 404);
    server.wait_idle();
    CHECK(posts(c).at(post).at("comments").as_array().size() == 1);  // only the valid one
}

TEST_CASE("moderation rejects a banned word in any case and anywhere and approves the rest",
          "[blog]") {
    TempDir dir;
    BlogServer server(dir.path());
    HttpClient c(server.port());
    auto post = create_post(c, "Fruit");
    for (const char* text :
         {"I like apples", "ORANGE juice", "Oranges!", "blood-orange", "or ange"})
        REQUIRE(comment(c, post, text).status == 201);
    auto view = posts_when(c, [&](const json::object& p) {
        return p.at(post).at("comments").as_array().size() == 5 && all_decided(p);
    });
    std::map<std::string, std::string> status;
    for (const auto& cm : view.at(post).at("comments").as_array())
        status[std::string(cm.at("content").as_string())] =
            std::string(cm.at("status").as_string());
    CHECK(status == std::map<std::string, std::string>{{"I like apples", "approved"},
                                                       {"ORANGE juice", "rejected"},
                                                       {"Oranges!", "rejected"},
                                                       {"blood-orange", "rejected"},
                                                       {"or ange", "approved"}});
    // comments, which owns the comment, has the decision too.
    auto own = body_of(c.get("/posts/" + post + "/comments")).as_array();
    CHECK(own[1].at("status").as_string() == "rejected");
    CHECK(own[0].at("status").as_string() == "approved");
}

TEST_CASE("the banned words are a setting", "[blog]") {
    TempDir dir;
    BlogServer server(dir.path(), [](blog::Config& c) { c.banned_words = {"spam", "Kiwi"}; });
    HttpClient c(server.port());
    auto post = create_post(c, "Post");
    comment(c, post, "orange is fine here");
    comment(c, post, "buy SPAM now");
    comment(c, post, "kiwis");
    auto view = posts_when(c, [&](const json::object& p) {
        return p.at(post).at("comments").as_array().size() == 3 && all_decided(p);
    });
    auto list = view.at(post).at("comments").as_array();
    REQUIRE(list.size() == 3);
    CHECK(list[0].at("status").as_string() == "approved");
    CHECK(list[1].at("status").as_string() == "rejected");
    CHECK(list[2].at("status").as_string() == "rejected");
}

TEST_CASE("many comments on one post at once are all present exactly once", "[blog][concurrency]") {
    TempDir dir;
    BlogServer server(dir.path());
    HttpClient setup(server.port());
    auto post = create_post(setup, "Busy");
    constexpr int threads = 8, each = 40;
    std::atomic<int> created{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            HttpClient c(server.port());
            for (int i = 0; i < each; ++i)
                if (comment(c, post,
                            "c-" + std::to_string(t) + "-" + std::to_string(i) +
                                (i % 5 == 0 ? " orange" : ""))
                        .status == 201)
                    ++created;
        });
    for (auto& th : pool) th.join();
    CHECK(created == threads * each);
    auto view = posts_when(setup, [&](const json::object& p) {
        return p.at(post).at("comments").as_array().size() == threads * each && all_decided(p);
    });
    auto list = view.at(post).at("comments").as_array();
    CHECK(list.size() == threads * each);
    std::set<std::string> contents, ids;
    for (const auto& cm : list) {
        std::string text(cm.at("content").as_string());
        contents.insert(text);
        ids.insert(std::string(cm.at("id").as_string()));
        CHECK(cm.at("status").as_string() == (text.ends_with(" orange") ? "rejected" : "approved"));
    }
    CHECK(contents.size() == threads * each);
    CHECK(ids.size() == threads * each);
    // Each writer's comments keep their order.
    for (int t = 0; t < threads; ++t) {
        int last = -1;
        for (const auto& cm : list) {
            std::string text(cm.at("content").as_string());
            std::string prefix = "c-" + std::to_string(t) + "-";
            if (!text.starts_with(prefix)) continue;
            int i = std::stoi(text.substr(prefix.size()));
            CHECK(i > last);
            last = i;
        }
    }
    CHECK(body_of(setup.get("/posts/" + post + "/comments")).as_array().size() == threads * each);
}

TEST_CASE("the core's HTTP layer holds on the blog: error shapes and limits and probes", "[blog]") {
    TempDir dir;
    BlogServer server(dir.path());
    HttpClient c(server.port());
    auto unknown = c.get("/nope/nope");
    CHECK(unknown.status == 404);
    CHECK(first_error(unknown) == "Not Found");
    auto wrong = c.request("DELETE", "/posts");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("allow").has_value());
    auto big = c.post("/posts/create", "{\"title\":\"" + std::string(2 * 1024 * 1024, 'a') + "\"}");
    CHECK(big.status == 413);
    auto cross =
        c.request("POST", "/posts/create", R"({"title":"x"})", {{"Sec-Fetch-Site", "cross-site"}});
    CHECK(cross.status == 403);
    CHECK(c.get("/healthz").status == 200);
    CHECK(c.get("/readyz").status == 200);
    auto page = c.get("/");
    CHECK(page.status == 200);
    CHECK(page.body.find("<title>blog</title>") != std::string::npos);
    CHECK(c.get("/app.js").status == 200);
    server.wait_idle();
    CHECK(posts(c).empty());
}

TEST_CASE("the blog's metrics carry its own name, with its modules' gauges beside the core's",
          "[blog][metrics]") {
    TempDir dir;
    BlogServer server(dir.path(), [](blog::Config& c) { c.metrics_port = 0; });
    HttpClient c(server.port());
    auto post = create_post(c, "Counted");
    REQUIRE(comment(c, post, "fine words").status == 201);
    server.wait_idle();
    auto m = HttpClient(server.host().metrics_port()).get("/metrics");
    REQUIRE(m.status == 200);
    CHECK(m.body.find(
              R"(blog_http_requests_total{route="/posts/create",method="POST",status="201"} 1)") !=
          std::string::npos);
    CHECK(m.body.find(R"(blog_events_published_total{subject="comment:created"} 1)") !=
          std::string::npos);
    CHECK(m.body.find(R"(blog_subscriber_lag_events{subscriber="query.comment-created"} 0)") !=
          std::string::npos);
    CHECK(m.body.find("\nblog_dead_letters 0\n") != std::string::npos);
    CHECK(m.body.find("\nblog_posts 1\n") != std::string::npos);
    // Nothing is named after ticketd: a blog's operator should not have to know where its core
    // came from.
    CHECK(m.body.find("ticketd") == std::string::npos);
}

TEST_CASE("a program name that would make invalid metric or stream names is refused at start",
          "[blog][metrics]") {
    TempDir dir;
    for (const char* bad : {"my-blog", "Blog", "", "1blog", "blog.example"}) {
        CHECK_THROWS_WITH(
            BlogServer(dir.path(), {}, [bad](ticketd::host::HostOptions& o) { o.program = bad; }),
            Catch::Contains("HostOptions::program must be"));
    }
    BlogServer fine(dir.path(), {}, [](ticketd::host::HostOptions& o) { o.program = "blog_2"; });
    CHECK(fine.port() != 0);
}
