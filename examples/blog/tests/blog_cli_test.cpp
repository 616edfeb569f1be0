// The blog binary as its users run it: production mode without a key, and the commands that
// come from the core (events graph, rebuild query, dead-letters, backup) on a real data directory.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "blog_server.hpp"
#include "support/child_server.hpp"

using blog::test::TempDir;
using ticketd::test::HttpClient;

namespace {

struct Run {
    int status = -1;
    std::string out;
};

// Runs the blog binary with `args` (words without quotes or spaces) and returns its exit status
// and what it printed on stdout.
Run blog_command(const std::string& args) {
    Run r;
    std::string command = std::string(BLOG_BINARY) + " " + args + " 2>/dev/null";
    FILE* p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    std::array<char, 4096> buf{};
    for (std::size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.out.append(buf.data(), n);
    int status = pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace

TEST_CASE("the blog runs in production mode without JWT_KEY and writes no signing key",
          "[blog][cli]") {
    TempDir dir;
    ticketd::test::ChildServer server(BLOG_BINARY, dir.path(), {"--production"});
    server.start();
    HttpClient c(server.port());
    auto post = blog::test::create_post(c, "In production");
    CHECK(!post.empty());
    CHECK(server.terminate() == 0);
    CHECK(!std::filesystem::exists(std::filesystem::path(dir.path()) / "jwt.key"));
}

TEST_CASE("the --modules flag accepts exactly the modules the blog registers, in their order",
          "[blog][cli]") {
    std::vector<std::string> registered;
    for (const auto& spec : blog::modules()) registered.push_back(spec.name);
    CHECK(registered == blog::module_names());
}

TEST_CASE("blog events graph shows the four events between the four modules", "[blog][cli]") {
    auto graph = blog_command("events graph");
    CHECK(graph.status == 0);
    for (const char* subject :
         {"post:created", "comment:created", "comment:moderated", "comment:updated"})
        CHECK(graph.out.find(subject) != std::string::npos);
    for (const char* module : {"posts", "comments", "moderation", "query"})
        CHECK(graph.out.find(module) != std::string::npos);
    CHECK(graph.out.rfind("flowchart", 0) == 0);
}

TEST_CASE("blog rebuild query, dead-letters and backup work on a stopped server's data",
          "[blog][cli]") {
    TempDir dir;
    std::string before;
    {
        ticketd::test::ChildServer server(BLOG_BINARY, dir.path(), {});
        server.start();
        HttpClient c(server.port());
        for (int i = 0; i < 3; ++i) {
            auto post = blog::test::create_post(c, "Post " + std::to_string(i));
            REQUIRE(blog::test::comment(c, post, "fine words").status == 201);
            REQUIRE(blog::test::comment(c, post, "an orange").status == 201);
        }
        // Wait until all six comments are in the view, each with its final status: a 201 means
        // the comment is stored, not yet that the view has it.
        auto settled = [](const std::string& body) {
            std::size_t decided = 0;
            boost::json::value view = boost::json::parse(body);
            for (const auto& [id, post] : view.as_object())
                for (const auto& cm : post.at("comments").as_array())
                    if (cm.at("status").as_string() != "pending") ++decided;
            return decided == 6;
        };
        for (int tries = 0; tries < 1000; ++tries) {
            before = c.get("/posts").body;
            if (settled(before)) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        REQUIRE(settled(before));
        CHECK(server.terminate() == 0);
    }
    auto rebuilt = blog_command("rebuild query --data-dir " + dir.path());
    CHECK(rebuilt.status == 0);
    auto parked = blog_command("dead-letters --data-dir " + dir.path());
    CHECK(parked.status == 0);
    TempDir backup;
    std::filesystem::remove(backup.path());
    CHECK(blog_command("backup " + backup.path() + " --data-dir " + dir.path()).status == 0);
    CHECK(std::filesystem::exists(std::filesystem::path(backup.path()) / "query.db"));

    ticketd::test::ChildServer again(BLOG_BINARY, dir.path(), {});
    again.start();
    HttpClient c(again.port());
    CHECK(c.get("/posts").body == before);
    again.terminate();
}
