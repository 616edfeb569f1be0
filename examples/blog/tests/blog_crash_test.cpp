// The blog binary killed with SIGKILL under concurrent writes, again and again: afterwards every
// acknowledged post and comment is in the view exactly once, with its final status, and the
// view agrees with the comments module that owns them.
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "blog_server.hpp"
#include "support/child_server.hpp"

using blog::test::TempDir;
using ticketd::test::HttpClient;
namespace json = boost::json;

TEST_CASE("kill -9 under comment load loses no acknowledged comment and every one ends moderated",
          "[blog][crash]") {
    TempDir dir;
    ticketd::test::ChildServer server(BLOG_BINARY, dir.path(), {});
    server.start();
    std::mutex m;
    std::map<std::string, std::string> acknowledged;  // comment id -> content
    std::map<std::string, std::string> comment_post;  // comment id -> post id
    std::vector<std::string> post_ids;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t)
        writers.emplace_back([&, t] {
            std::mt19937 rng(t);
            std::string post;
            int n = 0;
            while (!stop) {
                try {
                    HttpClient c(server.port());
                    if (post.empty() || rng() % 20 == 0) {
                        post = blog::test::create_post(c, "Post of writer " + std::to_string(t));
                        std::lock_guard lock(m);
                        post_ids.push_back(post);
                    }
                    std::string content = "w" + std::to_string(t) + " #" + std::to_string(n++) +
                                          (rng() % 4 == 0 ? " with an orange" : "");
                    auto r = blog::test::comment(c, post, content);
                    if (r.status != 201) continue;
                    // The answer lists the post's comments; the new one is the last.
                    auto list = json::parse(r.body).as_array();
                    std::lock_guard lock(m);
                    std::string id(list.back().at("id").as_string());
                    acknowledged[id] = content;
                    comment_post[id] = post;
                } catch (const std::exception&) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // down: try again
                }
            }
        });
    std::mt19937 rng(42);
    for (int kill = 0; kill < 5; ++kill) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 500));
        server.kill9();
        server.start();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
    for (auto& w : writers) w.join();
    REQUIRE(acknowledged.size() > 50);

    HttpClient c(server.port());
    json::object view;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        view = blog::test::posts(c);
        std::size_t decided = 0;
        for (const auto& [id, post] : view)
            for (const auto& cm : post.at("comments").as_array())
                if (cm.at("status").as_string() != "pending" &&
                    acknowledged.count(std::string(cm.at("id").as_string())))
                    ++decided;
        if (decided == acknowledged.size() || std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (const auto& id : post_ids) CHECK(view.contains(id));
    std::map<std::string, int> seen;
    for (const auto& [post_id, post] : view)
        for (const auto& cm : post.at("comments").as_array()) {
            std::string id(cm.at("id").as_string());
            ++seen[id];
            auto it = acknowledged.find(id);
            if (it == acknowledged.end()) continue;  // written, but its answer was lost to a kill
            CHECK(comment_post[id] == std::string(post_id));
            CHECK(cm.at("content").as_string() == it->second);
            CHECK(cm.at("status").as_string() ==
                  (it->second.find("orange") != std::string::npos ? "rejected" : "approved"));
        }
    std::size_t missing = 0, doubled = 0;
    for (const auto& [id, content] : acknowledged) {
        if (seen[id] == 0) ++missing;
        if (seen[id] > 1) ++doubled;
    }
    CHECK(missing == 0);
    CHECK(doubled == 0);
    // The comments module, which owns them, says the same.
    for (const auto& id : post_ids) {
        auto own = json::parse(c.get("/posts/" + id + "/comments").body).as_array();
        CHECK(own.size() == view.at(id).at("comments").as_array().size());
        for (std::size_t i = 0; i < own.size(); ++i)
            CHECK(own[i] == view.at(id).at("comments").as_array()[i]);
    }
    server.terminate();
}
