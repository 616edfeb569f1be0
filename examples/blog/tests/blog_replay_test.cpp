// Replay: the query view is built from the log alone, by a subscriber that comes late, after its
// database is dropped, or by `blog rebuild query`; and an event that comes before the one it
// depends on is retried, not lost.
#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "blog/events.hpp"
#include "blog_server.hpp"
#include "bus/bus.hpp"
#include "bus/event_log.hpp"
#include "db/database.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"

using blog::test::BlogServer;
using blog::test::comment;
using blog::test::create_post;
using blog::test::posts;
using blog::test::TempDir;
using ticketd::test::HttpClient;
namespace json = boost::json;

namespace {

// Writes posts and comments (a banned one among them) and waits for moderation; returns GET /posts.
std::string fill(BlogServer& server) {
    HttpClient c(server.port());
    for (int p = 0; p < 5; ++p) {
        auto id = create_post(c, "Post " + std::to_string(p));
        for (int i = 0; i < 6; ++i)
            comment(c, id, "comment " + std::to_string(i) + (i == 3 ? " orange" : ""));
    }
    server.wait_idle();
    return c.get("/posts").body;
}

// A module that publishes whatever a test asks for, in the order it asks.
class Publisher final : public ticketd::Module {
public:
    explicit Publisher(const ticketd::ModuleContext& ctx)
        : db_(ctx.open_database("probe")), bus_(ctx.bus) {}
    std::string_view name() const override { return "probe"; }
    ticketd::db::Database& database() override { return *db_; }
    void add_routes(ticketd::http::Router& router) override {
        router.post("/probe/post", [this](const ticketd::http::Request& req) {
            auto body = ticketd::http::json_object(req);
            publish(blog::events::PostCreated{.id = std::string(body.at("id").as_string()),
                                              .title = "Late post"});
            return ticketd::http::json(201, json::object{});
        });
        router.post("/probe/comment", [this](const ticketd::http::Request& req) {
            auto body = ticketd::http::json_object(req);
            publish(
                blog::events::CommentCreated{.id = std::string(body.at("id").as_string()),
                                             .post_id = std::string(body.at("postId").as_string()),
                                             .content = "early comment",
                                             .status = blog::events::CommentStatus::pending});
            return ticketd::http::json(201, json::object{});
        });
    }
    void add_listeners(ticketd::bus::Bus& bus) override {
        bus.publishes<blog::events::PostCreated>("probe");
        bus.publishes<blog::events::CommentCreated>("probe");
    }

private:
    template <class E>
    void publish(const E& e) {
        ticketd::db::WriteTx tx(*db_);
        bus_.publish(tx, e);
        tx.commit();
    }
    std::unique_ptr<ticketd::db::Database> db_;
    ticketd::bus::Bus& bus_;
};

}  // namespace

TEST_CASE("a query module started late catches up on the whole log", "[blog][replay]") {
    TempDir dir;
    {
        // Everything but the view runs: posts, comments and moderation write the history.
        BlogServer server(dir.path(), [](blog::Config& c) {
            c.modules = {"posts", "comments", "moderation"};
        });
        fill(server);
        HttpClient c(server.port());
        CHECK(c.get("/posts").status == 404);  // nobody serves the view yet
    }
    BlogServer server(dir.path());
    server.wait_idle();
    HttpClient c(server.port());
    auto view = posts(c);
    REQUIRE(view.size() == 5);
    for (const auto& [id, post] : view) {
        auto list = post.at("comments").as_array();
        REQUIRE(list.size() == 6);
        for (std::size_t i = 0; i < list.size(); ++i)
            CHECK(list[i].at("status").as_string() == (i == 3 ? "rejected" : "approved"));
    }
}

TEST_CASE("deleting query.db or blog rebuild query gives back the same view", "[blog][replay]") {
    TempDir dir;
    std::string before;
    {
        BlogServer server(dir.path());
        before = fill(server);
    }
    REQUIRE(json::parse(before).as_object().size() == 5);
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(ticketd::db::database_path(dir.path(), "query") + suffix);
    {
        BlogServer server(dir.path());
        server.wait_idle();
        HttpClient c(server.port());
        CHECK(c.get("/posts").body == before);
    }
    auto config = blog::test::test_config(dir.path());
    CHECK(blog::rebuild_query(config) == 5);
    BlogServer server(dir.path());
    server.wait_idle();
    HttpClient c(server.port());
    CHECK(c.get("/posts").body == before);
}

TEST_CASE("blog rebuild query is refused while a server runs on the data directory",
          "[blog][replay]") {
    TempDir dir;
    BlogServer server(dir.path());
    fill(server);
    CHECK_THROWS_WITH(blog::rebuild_query(blog::test::test_config(dir.path())),
                      Catch::Contains("another blog is already using"));
    HttpClient c(server.port());
    CHECK(posts(c).size() == 5);  // untouched
}

namespace {

// Adds the Publisher probe to the modules a test runs.
void with_publisher(ticketd::host::HostOptions& o) {
    o.extra_modules.push_back([](const ticketd::ModuleContext& ctx) {
        return std::unique_ptr<ticketd::Module>(std::make_unique<Publisher>(ctx));
    });
}

}  // namespace

TEST_CASE("a comment event that arrives before its post's is retried and lands once the post does",
          "[blog][replay]") {
    TempDir dir;
    BlogServer server(
        dir.path(), [](blog::Config& c) { c.modules = {"query"}; }, with_publisher);
    HttpClient c(server.port());
    REQUIRE(c.post("/probe/comment", R"({"id":"c1","postId":"p1"})").status == 201);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(100));  // tried, and refused, several times
    CHECK(posts(c).empty());
    REQUIRE(c.post("/probe/post", R"({"id":"p1"})").status == 201);
    server.wait_idle();
    auto view = posts(c);
    REQUIRE(view.size() == 1);
    auto list = view.at("p1").at("comments").as_array();
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("content").as_string() == "early comment");
    CHECK(list[0].at("id").as_string() == "c1");
    // Nothing was parked: the retry carried it.
    CHECK(ticketd::bus::EventLog(server.host().database("bus")).dead_letter_count() == 0);
}

TEST_CASE("a comment whose post comes after every retry is kept and shows once the post does",
          "[blog][replay]") {
    TempDir dir;
    BlogServer server(
        dir.path(), [](blog::Config& c) { c.modules = {"query"}; },
        [](ticketd::host::HostOptions& o) {
            with_publisher(o);
            o.bus.retry.max_attempts = 3;  // the last try comes within ~15 ms
        });
    HttpClient c(server.port());
    REQUIRE(c.post("/probe/comment", R"({"id":"c1","postId":"p1"})").status == 201);
    server.wait_idle();  // every try used up: the bus has nothing left to do with it
    CHECK(posts(c).empty());
    REQUIRE(c.post("/probe/post", R"({"id":"p1"})").status == 201);
    server.wait_idle();
    auto view = posts(c);
    REQUIRE(view.size() == 1);
    auto list = view.at("p1").at("comments").as_array();
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("id").as_string() == "c1");
    CHECK(ticketd::bus::EventLog(server.host().database("bus")).dead_letter_count() == 0);
}

TEST_CASE("a comment on a post created a moment ago waits for the post to reach comments",
          "[blog]") {
    TempDir dir;
    // comments alone, told of posts by the probe: the post's event comes 300 ms after the comment.
    BlogServer server(
        dir.path(), [](blog::Config& c) { c.modules = {"comments"}; }, with_publisher);
    HttpClient announcer(server.port());
    std::thread late([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        announcer.post("/probe/post", R"({"id":"p7"})");
    });
    HttpClient c(server.port());
    auto started = std::chrono::steady_clock::now();
    auto r = comment(c, "p7", "early bird");
    auto waited = std::chrono::steady_clock::now() - started;
    late.join();
    REQUIRE(r.status == 201);
    CHECK(waited >= std::chrono::milliseconds(250));
    auto list = json::parse(r.body).as_array();
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("content").as_string() == "early bird");
    CHECK(list[0].at("status").as_string() == "pending");
}
