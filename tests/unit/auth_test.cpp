#include <catch2/catch.hpp>

#include "auth/credentials.hpp"
#include "auth/password.hpp"
#include "auth/sign_in_throttle.hpp"
#include "util/clock.hpp"

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
    CHECK(auth::normalize_email("  Jo.Smith+tix@Mail.Example.ORG ") == "jo.smith+tix@mail.example.org");
    for (auto bad : {"", "plain", "a@b", "a@b.c1", "a..b@c.com", ".a@c.com", "a@c..com", "a@c_d.com",
                     "ä@x.com", "a@x.com@y.com"})
        CHECK(!auth::normalize_email(bad));
    CHECK(!auth::normalize_email(std::string(250, 'a') + "@x.com"));
}

TEST_CASE("the throttle opens again once failures age out", "[auth]") {
    util::ManualClock clock(std::chrono::system_clock::now());
    auth::SignInThrottle t(clock, {3, 100, std::chrono::seconds(60), 10});
    for (int i = 0; i < 3; ++i) t.record_failure("e", "ip");
    auto wait = t.retry_after("e", "ip");
    CHECK(wait > 0);
    CHECK(wait <= 61);
    CHECK(t.retry_after("other", "ip2") == 0);
    clock.advance(std::chrono::seconds(61));
    CHECK(t.retry_after("e", "ip") == 0);
}
