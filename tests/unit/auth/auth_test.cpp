#include <condition_variable>
#include <mutex>

#include <catch2/catch.hpp>

#include "auth/credentials.hpp"
#include "auth/password.hpp"
#include "auth/sign_in_throttle.hpp"
#include "util/clock.hpp"
#include "util/worker_pool.hpp"

using namespace ticketd;

TEST_CASE("passwords are hashed with a fresh salt and verified in constant time", "[auth]") {
    auto a = auth::hash_password("secret");
    auto b = auth::hash_password("secret");
    CHECK(a != b);  // different salts
    CHECK(a.starts_with("scrypt$16384$8$1$"));
    CHECK(a.find("secret") == std::string::npos);
    CHECK(auth::verify_password("secret", a));
    CHECK(!auth::verify_password("Secret", a));
    CHECK(!auth::verify_password("secret", "scrypt$16384$8$1$bad"));
    CHECK(!auth::verify_password("secret", "plain"));
    CHECK(!auth::verify_password("secret", ""));
}

TEST_CASE("hashes with other parameters still verify, so parameters can be raised", "[auth]") {
    auto cheap = auth::hash_password("pw", {1024, 8, 1, 32, 16});
    CHECK(cheap.starts_with("scrypt$1024$8$1$"));
    CHECK(auth::verify_password("pw", cheap));
}

TEST_CASE("emails are trimmed, lower-cased and checked", "[auth]") {
    CHECK(auth::normalize_email("  Jo.Smith+tix@Mail.Example.ORG ") ==
          "jo.smith+tix@mail.example.org");
    for (auto bad : {"", "plain", "a@b", "a@b.c1", "a..b@c.com", ".a@c.com", "a@c..com",
                     "a@c_d.com", "ä@x.com", "a@x.com@y.com"})
        CHECK(!auth::normalize_email(bad));
    CHECK(!auth::normalize_email(std::string(250, 'a') + "@x.com"));
}

TEST_CASE("the throttle opens again once failures age out", "[auth]") {
    util::ManualClock clock(std::chrono::system_clock::now());
    auth::SignInThrottle t(clock, {.per_email_and_address = 3,
                                   .per_address = 100,
                                   .signups_per_address = 2,
                                   .window = std::chrono::seconds(60),
                                   .max_keys = 10});
    std::int64_t wait = 0;
    for (int i = 0; i < 3; ++i) CHECK(t.begin_sign_in("e", "ip", wait));  // three failures
    CHECK_FALSE(t.begin_sign_in("e", "ip", wait));
    CHECK(wait > 0);
    CHECK(wait <= 61);
    CHECK(t.begin_sign_in("e", "ip2", wait));     // the same email from elsewhere: allowed
    CHECK(t.begin_sign_in("other", "ip", wait));  // another email from there: allowed
    clock.advance(std::chrono::seconds(61));
    CHECK(t.begin_sign_in("e", "ip", wait));
}

TEST_CASE("a success gives its slot back and clears that email's count from that address",
          "[auth]") {
    util::ManualClock clock(std::chrono::system_clock::now());
    auth::SignInThrottle t(clock, {.per_email_and_address = 2, .per_address = 3});
    std::int64_t wait = 0;
    CHECK(t.begin_sign_in("e", "ip", wait));
    auto ok = t.begin_sign_in("e", "ip", wait);
    REQUIRE(ok);
    t.succeeded(*ok);
    CHECK(t.begin_sign_in("e", "ip", wait));
    CHECK(t.begin_sign_in("e", "ip", wait));
    // The address has now three failures counted (one was given back): its limit.
    CHECK_FALSE(t.begin_sign_in("x", "ip", wait));
}

TEST_CASE("sign-ups are counted per address", "[auth]") {
    util::ManualClock clock(std::chrono::system_clock::now());
    auth::SignInThrottle t(clock, {.signups_per_address = 2});
    CHECK(t.begin_sign_up("ip") == 0);
    CHECK(t.begin_sign_up("ip") == 0);
    CHECK(t.begin_sign_up("ip") > 0);
    CHECK(t.begin_sign_up("ip2") == 0);
}

TEST_CASE("the worker pool turns jobs away once its queue is full", "[auth]") {
    std::mutex m;
    std::condition_variable cv;
    bool started = false, go = false;
    auto blocker = [&] {
        std::unique_lock lock(m);
        started = true;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
    };
    util::WorkerPool pool(1);
    REQUIRE(pool.try_post(blocker, 2));
    {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return started; });  // the only worker is busy now
    }
    CHECK(pool.try_post([] {}, 2));
    CHECK(pool.try_post([] {}, 2));
    CHECK_FALSE(pool.try_post([] {}, 2));  // two are waiting: the limit
    {
        std::lock_guard lock(m);
        go = true;
    }
    cv.notify_all();
}
