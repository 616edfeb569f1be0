#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "http/session.hpp"
#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/test_server.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

using namespace ticketd;
namespace json = boost::json;

namespace {

std::string message(const test::HttpResponse& r, int i = 0) {
    return test::error_message(r.body, i);
}
std::string field(const test::HttpResponse& r, int i = 0) { return test::error_field(r.body, i); }
std::string creds(const std::string& email, const std::string& password) {
    return json::serialize(json::object{{"email", email}, {"password", password}});
}
json::value current_user(test::HttpClient& c) {
    auto res = c.get("/api/users/currentuser");
    REQUIRE(res.status == 200);
    return json::parse(res.body).at("currentUser");
}
// A session cookie value holding `token`, as a browser would send it.
std::string cookie_with(const std::string& token) {
    return util::base64_encode(json::serialize(json::object{{"jwt", token}}));
}

}  // namespace

TEST_CASE("signing up creates a user, sets the session cookie and signs them in", "[auth]") {
    test::TestServer app;
    test::HttpClient client(app.port());
    auto res = client.post("/api/users/signup", creds("  Alice@Example.COM ", "secret"));
    REQUIRE(res.status == 201);
    auto body = json::parse(res.body);
    CHECK(body.at("email") == "alice@example.com");
    CHECK(body.at("id").as_string().size() > 0);
    CHECK(body.as_object().size() == 2);  // no password, no hash
    auto cookie = res.header("set-cookie").value();
    CHECK(cookie.starts_with("session="));
    CHECK(cookie.find("Path=/") != std::string::npos);
    CHECK(cookie.find("HttpOnly") != std::string::npos);
    CHECK(cookie.find("SameSite=Lax") != std::string::npos);
    CHECK(cookie.find("Secure") == std::string::npos);  // development mode
    // The cookie is base64 of {"jwt": "..."}, as the classic client expects.
    auto decoded = util::base64_decode(*client.cookie).value();
    CHECK(json::parse(decoded).at("jwt").as_string().size() > 20);
    auto me = current_user(client);
    CHECK(me.at("email") == "alice@example.com");
    CHECK(me.at("id") == body.at("id"));
    CHECK(me.at("iat").is_int64());
}

TEST_CASE("sign-up validation names every invalid field", "[auth]") {
    test::TestServer app;
    test::HttpClient client(app.port());
    auto both = client.post("/api/users/signup", creds("not-an-email", "abc"));
    CHECK(both.status == 400);
    CHECK(message(both, 0) == "Email must be valid");
    CHECK(field(both, 0) == "email");
    CHECK(message(both, 1) == "Password must be between 4 and 20 characters");
    CHECK(field(both, 1) == "password");
    for (auto bad :
         {"", "a@b", "a@@b.com", "a b@c.com", "@x.com", "x@.com", "x@com.", "x@-a.com"}) {
        auto res = client.post("/api/users/signup", creds(bad, "password"));
        CHECK(res.status == 400);
        CHECK(message(res) == "Email must be valid");
    }
    CHECK(message(client.post("/api/users/signup", creds("a@b.co", std::string(21, 'x')))) ==
          "Password must be between 4 and 20 characters");
    CHECK(message(client.post("/api/users/signup", creds("a@b.co", "  ab  "))) ==
          "Password must be between 4 and 20 characters");
    CHECK(client.post("/api/users/signup", R"({"email": 5, "password": ["x"]})").status == 400);
    // 20 characters of non-ASCII text is fine: characters, not bytes.
    CHECK(client.post("/api/users/signup", creds("u@b.co", "ééééééééééééééééééé€")).status == 201);
    CHECK(!client.post("/api/users/signup", creds("v@b.co", "pass")).header("set-cookie")->empty());
}

TEST_CASE("an email can be registered once, even when sign-ups race", "[auth]") {
    test::TestServer app;
    {
        test::HttpClient client(app.port());
        REQUIRE(client.post("/api/users/signup", creds("taken@example.com", "password")).status ==
                201);
        auto again = client.post("/api/users/signup", creds("TAKEN@example.com", "other1"));
        CHECK(again.status == 400);
        CHECK(message(again) == "Email in use");
    }
    constexpr int racers = 16;
    std::atomic<int> created{0}, in_use{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < racers; ++i)
        threads.emplace_back([&, i] {
            test::HttpClient c(app.port());
            auto res = c.post("/api/users/signup",
                              creds("race@example.com", "pw" + std::to_string(1000 + i)));
            if (res.status == 201)
                ++created;
            else if (res.status == 400 && message(res) == "Email in use")
                ++in_use;
            else
                ++other;
        });
    for (auto& t : threads) t.join();
    CHECK(created == 1);
    CHECK(in_use == racers - 1);
    CHECK(other == 0);
}

TEST_CASE("signing in checks the password and answers unknown emails the same way", "[auth]") {
    test::TestServer app;
    test::HttpClient seller(app.port());
    REQUIRE(seller.post("/api/users/signup", creds("bob@example.com", "hunter22")).status == 201);
    test::HttpClient client(app.port());
    auto ok = client.post("/api/users/signin", creds(" BOB@example.com", " hunter22 "));
    CHECK(ok.status == 200);
    CHECK(json::parse(ok.body).at("email") == "bob@example.com");
    CHECK(ok.header("set-cookie").has_value());
    CHECK(current_user(client).at("email") == "bob@example.com");

    test::HttpClient other(app.port());
    auto wrong = other.post("/api/users/signin", creds("bob@example.com", "hunter23"));
    auto unknown = other.post("/api/users/signin", creds("nobody@example.com", "hunter22"));
    CHECK(wrong.status == 400);
    CHECK(unknown.status == 400);
    CHECK(wrong.body == unknown.body);
    CHECK(message(wrong) == "Invalid credentials");
    CHECK(!wrong.header("set-cookie"));
    auto missing = other.post("/api/users/signin", R"({"email":"bob@example.com"})");
    CHECK(message(missing) == "You must supply a password");
    CHECK(field(missing) == "password");
    CHECK(message(other.post("/api/users/signin", creds("bob", "x"))) == "Email must be valid");
}

TEST_CASE("signing out clears the cookie and the current user is null", "[auth]") {
    test::TestServer app;
    test::HttpClient client(app.port());
    REQUIRE(client.post("/api/users/signup", creds("carol@example.com", "password")).status == 201);
    CHECK(current_user(client).is_object());
    auto out = client.post("/api/users/signout", "");
    CHECK(out.status == 200);
    CHECK(out.body == "{}");
    auto cleared = out.header("set-cookie").value();
    CHECK(cleared.starts_with("session=;"));
    CHECK(cleared.find("Expires=Thu, 01 Jan 1970") != std::string::npos);
    CHECK(current_user(client).is_null());
}

TEST_CASE("bad, forged and expired tokens are simply no session", "[auth][security]") {
    util::ManualClock clock(std::chrono::system_clock::now());
    auto options = test::TestServer::default_options();
    options.clock = &clock;
    test::TestServer app({}, options);
    test::HttpClient client(app.port());
    REQUIRE(client.post("/api/users/signup", creds("dave@example.com", "password")).status == 201);
    auto good_cookie = *client.cookie;
    std::string token(json::parse(*util::base64_decode(good_cookie)).at("jwt").as_string());
    auto first_dot = token.find('.'), second_dot = token.rfind('.');
    std::string header = token.substr(0, first_dot);
    std::string payload = token.substr(first_dot + 1, second_dot - first_dot - 1);
    std::string signature = token.substr(second_dot + 1);

    auto user_with = [&](const std::string& cookie) {
        test::HttpClient c(app.port());
        c.cookie = cookie;
        return current_user(c);
    };
    CHECK(user_with(good_cookie).is_object());

    // Tampered payload: someone else's id under the original signature.
    auto claims = json::parse(*util::base64_decode(payload)).as_object();
    claims["id"] = "someone-else";
    std::string forged_payload = util::base64url_encode(json::serialize(claims));
    CHECK(user_with(cookie_with(header + "." + forged_payload + "." + signature)).is_null());
    // Tampered signature.
    std::string flipped = signature;
    flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
    CHECK(user_with(cookie_with(header + "." + payload + "." + flipped)).is_null());
    // alg: none, with and without a signature.
    std::string none = util::base64url_encode(R"({"alg":"none","typ":"JWT"})");
    CHECK(user_with(cookie_with(none + "." + payload + ".")).is_null());
    CHECK(user_with(cookie_with(none + "." + payload + "." + signature)).is_null());
    // Signed with another key.
    http::Sessions other("a-different-key-entirely-0123456789", false, std::chrono::hours(1),
                         clock);
    CHECK(user_with(cookie_with(other.issue("x", "dave@example.com"))).is_null());
    // Garbage.
    for (std::string junk : std::vector<std::string>{"", "not-base64!", util::base64_encode("{}"),
                                                     util::base64_encode("[1]"),
                                                     cookie_with("a.b.c"), cookie_with("....")})
        CHECK(user_with(junk).is_null());
    // Expired: 14 days later the token no longer counts.
    clock.advance(std::chrono::hours(24 * 14) + std::chrono::seconds(1));
    CHECK(user_with(good_cookie).is_null());
}

TEST_CASE("production mode marks the cookie Secure and requires JWT_KEY", "[auth][security]") {
    test::TestServer app([](Config& c) { c.production = true; });
    test::HttpClient client(app.port());
    auto res = client.post("/api/users/signup", creds("erin@example.com", "password"));
    REQUIRE(res.status == 201);
    CHECK(res.header("set-cookie")->find("; Secure") != std::string::npos);
    CHECK(client.post("/api/users/signout", "").header("set-cookie")->find("; Secure") !=
          std::string::npos);

    test::TempDir dir;
    auto config = test::test_config(dir.path());
    config.production = true;
    config.jwt_key.clear();
    CHECK_THROWS_WITH(App(config), Catch::Contains("JWT_KEY must be set"));
}

TEST_CASE("development mode generates a signing key once, readable only by its owner",
          "[auth][security]") {
    test::TempDir dir;
    std::string cookie;
    {
        test::TestServer app(dir.path(), [](Config& c) { c.jwt_key.clear(); });
        test::HttpClient client(app.port());
        REQUIRE(client.post("/api/users/signup", creds("fay@example.com", "password")).status ==
                201);
        cookie = *client.cookie;
    }
    struct stat st {};
    REQUIRE(::stat((dir.path() + "/jwt.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // After a restart the same key is used: the session survives.
    test::TestServer app(dir.path(), [](Config& c) { c.jwt_key.clear(); });
    test::HttpClient client(app.port());
    client.cookie = cookie;
    CHECK(current_user(client).at("email") == "fay@example.com");
}

TEST_CASE("cross-site state-changing requests are refused, same-origin ones are not",
          "[auth][security]") {
    test::TestServer app;
    test::HttpClient client(app.port());
    std::string host = "127.0.0.1:" + std::to_string(app.port());
    auto cross = client.request("POST", "/api/users/signup", creds("g@example.com", "password"),
                                {{"Sec-Fetch-Site", "cross-site"}});
    CHECK(cross.status == 403);
    CHECK(message(cross) == "Cross-site request refused");
    auto evil = client.request("POST", "/api/users/signup", creds("g@example.com", "password"),
                               {{"Origin", "https://evil.example"}});
    CHECK(evil.status == 403);
    CHECK(client.request("POST", "/api/users/signout", "", {{"Origin", "null"}}).status == 403);
    // Nothing was created by the refused requests.
    auto same = client.request("POST", "/api/users/signup", creds("g@example.com", "password"),
                               {{"Origin", "http://" + host}, {"Sec-Fetch-Site", "same-origin"}});
    CHECK(same.status == 201);
    // Reads are never refused; neither are clients that send no such headers.
    CHECK(client.request("GET", "/api/users/currentuser", "", {{"Sec-Fetch-Site", "cross-site"}})
              .status == 200);
    CHECK(client.post("/api/users/signout", "").status == 200);
}

TEST_CASE("repeated failed sign-ins are throttled and a success resets the email's count",
          "[auth][security]") {
    test::TestServer app;
    test::HttpClient client(app.port());
    REQUIRE(client.post("/api/users/signup", creds("hal@example.com", "rightpass")).status == 201);
    for (int i = 0; i < 9; ++i)
        REQUIRE(client.post("/api/users/signin", creds("hal@example.com", "wrong")).status == 400);
    REQUIRE(client.post("/api/users/signin", creds("hal@example.com", "rightpass")).status == 200);
    for (int i = 0; i < 10; ++i)
        REQUIRE(client.post("/api/users/signin", creds("hal@example.com", "wrong")).status == 400);
    auto limited = client.post("/api/users/signin", creds("hal@example.com", "rightpass"));
    CHECK(limited.status == 429);
    CHECK(message(limited) == "Too many failed sign-ins, try again later");
    CHECK(std::stoi(limited.header("retry-after").value()) > 0);
    CHECK(!limited.header("set-cookie"));
    // Another account is not locked by hal's failures.
    REQUIRE(client.post("/api/users/signup", creds("ivy@example.com", "password")).status == 201);
    CHECK(client.post("/api/users/signin", creds("ivy@example.com", "password")).status == 200);
}

TEST_CASE("failures from elsewhere do not lock the owner of an email out", "[auth][security]") {
    test::TestServer app;
    test::HttpClient owner(app.port());
    REQUIRE(owner.post("/api/users/signup", creds("hal@example.com", "rightpass")).status == 201);
    test::HttpClient attacker(app.port());
    attacker.source_address = "127.0.0.2";
    for (int i = 0; i < 10; ++i)
        REQUIRE(
            attacker
                .post("/api/users/signin", creds("hal@example.com", "guess" + std::to_string(i)))
                .status == 400);
    CHECK(attacker.post("/api/users/signin", creds("hal@example.com", "rightpass")).status == 429);
    // The owner, from an address with no failures for that email, signs in.
    CHECK(owner.post("/api/users/signin", creds("hal@example.com", "rightpass")).status == 200);
}

TEST_CASE("parallel guesses cannot get past the limit", "[auth][security]") {
    test::TestServer app;
    {
        test::HttpClient c(app.port());
        REQUIRE(c.post("/api/users/signup", creds("par@example.com", "rightpass")).status == 201);
    }
    std::atomic<int> checked{0}, throttled{0}, other{0};
    std::vector<std::thread> guessers;
    for (int i = 0; i < 30; ++i)
        guessers.emplace_back([&, i] {
            test::HttpClient c(app.port());
            auto res =
                c.post("/api/users/signin", creds("par@example.com", "guess" + std::to_string(i)));
            if (res.status == 400)
                ++checked;
            else if (res.status == 429)
                ++throttled;
            else
                ++other;
        });
    for (auto& t : guessers) t.join();
    CHECK(checked == 10);  // the limit, though all thirty were sent at once
    CHECK(throttled == 20);
    CHECK(other == 0);
}

TEST_CASE(
    "behind a trusted proxy each client has its own throttle, and X-Forwarded-For is not believed "
    "from others",
    "[auth][security]") {
    test::TestServer app([](Config& c) { c.trusted_proxies = "127.0.0.1/32"; });
    test::HttpClient proxy(app.port());
    REQUIRE(proxy.post("/api/users/signup", creds("kim@example.com", "rightpass")).status == 201);
    auto from = [&](const std::string& client, const std::string& password) {
        return proxy
            .request("POST", "/api/users/signin", creds("kim@example.com", password),
                     {{"X-Forwarded-For", "198.51.100.7, " + client}})
            .status;
    };
    for (int i = 0; i < 10; ++i) REQUIRE(from("203.0.113.5", "wrong") == 400);
    CHECK(from("203.0.113.5", "rightpass") == 429);
    CHECK(from("203.0.113.6", "rightpass") == 200);  // another client behind the same proxy

    // A peer that is not a trusted proxy cannot pick its address with the header.
    test::HttpClient direct(app.port());
    direct.source_address = "127.0.0.3";
    for (int i = 0; i < 10; ++i)
        REQUIRE(direct
                    .request("POST", "/api/users/signin", creds("kim@example.com", "wrong"),
                             {{"X-Forwarded-For", "192.0.2." + std::to_string(i)}})
                    .status == 400);
    CHECK(direct
              .request("POST", "/api/users/signin", creds("kim@example.com", "rightpass"),
                       {{"X-Forwarded-For", "192.0.2.99"}})
              .status == 429);
}

TEST_CASE("sign-ups from one address are limited", "[auth][security]") {
    test::TestServer app;
    test::HttpClient c(app.port());
    for (int i = 0; i < 30; ++i)
        REQUIRE(
            c.post("/api/users/signup", creds("u" + std::to_string(i) + "@example.com", "password"))
                .status == 201);
    auto refused = c.post("/api/users/signup", creds("u30@example.com", "password"));
    CHECK(refused.status == 429);
    CHECK(message(refused) == "Too many sign-ups from this address, try again later");
    CHECK(refused.header("retry-after"));
    test::HttpClient elsewhere(app.port());
    elsewhere.source_address = "127.0.0.4";
    CHECK(elsewhere.post("/api/users/signup", creds("u31@example.com", "password")).status == 201);
}

TEST_CASE("passwords and their hashes appear in no response and no log line", "[auth][security]") {
    // Capture everything the server logs, at the most talkative level, with access logs on.
    test::TempDir dir;
    std::string log_path = dir.path() + "/captured.log";
    fflush(stderr);
    int saved = dup(2);
    FILE* sink = fopen(log_path.c_str(), "w");
    dup2(fileno(sink), 2);
    std::string bodies;
    {
        test::TestServer app([](Config& c) { c.access_log = true; });
        log::configure(log::Level::debug, log::Format::json);
        test::HttpClient client(app.port());
        const std::string password = "Sup3rSecretPw";
        auto up = client.post("/api/users/signup", creds("kim@example.com", password));
        auto in = client.post("/api/users/signin", creds("kim@example.com", password));
        auto bad = client.post("/api/users/signin", creds("kim@example.com", password + "x"));
        auto me = client.get("/api/users/currentuser");
        bodies = up.body + in.body + bad.body + me.body;
        for (const auto& r : {up, in, bad, me})
            for (const auto& [k, v] : r.headers) bodies += k + ": " + v + "\n";
        log::configure(log::Level::error, log::Format::text);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(sink);
    std::ifstream in(log_path);
    std::stringstream logged;
    logged << in.rdbuf();
    CHECK(logged.str().find("request") != std::string::npos);  // the capture did work
    for (const std::string& secret : {std::string("Sup3rSecretPw"), std::string("scrypt$")}) {
        CHECK(bodies.find(secret) == std::string::npos);
        CHECK(logged.str().find(secret) == std::string::npos);
    }
}
