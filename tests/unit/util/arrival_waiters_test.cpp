#include "util/arrival_waiters.hpp"

#include <optional>

#include <catch2/catch.hpp>

#include "support/recording_bus.hpp"
#include "util/clock.hpp"

using namespace ticketd;

namespace {

struct Waiters {
    util::ManualClock clock{std::chrono::system_clock::now()};
    test::FakeTimer* timer = nullptr;
    std::unique_ptr<util::ArrivalWaiters> waiters;
    Waiters() {
        auto t = std::make_unique<test::FakeTimer>();
        timer = t.get();
        waiters = std::make_unique<util::ArrivalWaiters>(
            std::move(t), [](std::function<void()> fn) { fn(); }, clock,
            std::chrono::milliseconds(1000));
    }
    std::optional<bool> wait_for(const std::string& key) {
        auto answer = std::make_shared<std::optional<bool>>();
        if (waiters->present_or_wait(
                key, [] { return false; }, [answer](bool arrived) { *answer = arrived; }))
            return true;
        answers.push_back(answer);
        return std::nullopt;
    }
    std::vector<std::shared_ptr<std::optional<bool>>> answers;
};

}  // namespace

TEST_CASE("a waiter is woken by its arrival, or answered false once its time is up", "[util]") {
    Waiters w;
    w.wait_for("a");
    w.wait_for("b");
    REQUIRE(w.timer->armed_delay == std::chrono::milliseconds(1000));
    w.waiters->arrived("a");
    CHECK(*w.answers[0] == std::optional<bool>(true));
    CHECK(!w.answers[1]->has_value());
    w.clock.advance(std::chrono::milliseconds(999));
    w.timer->fire();  // early: still waiting, armed again for the rest
    CHECK(!w.answers[1]->has_value());
    CHECK(w.timer->armed_delay == std::chrono::milliseconds(1));
    w.clock.advance(std::chrono::milliseconds(1));
    w.timer->fire();
    CHECK(*w.answers[1] == std::optional<bool>(false));
}

TEST_CASE("a clock set back stretches a wait to twice its timeout at most", "[util]") {
    Waiters w;
    w.wait_for("a");
    w.clock.advance(-std::chrono::hours(1));  // the wall clock was set back
    w.timer->fire();                          // after the real second the timer was armed for
    CHECK(!w.answers[0]->has_value());        // the wait starts over...
    REQUIRE(w.timer->armed_delay == std::chrono::milliseconds(1000));
    w.clock.advance(std::chrono::milliseconds(1000));
    w.timer->fire();  // ...and ends one timeout later, not an hour
    CHECK(*w.answers[0] == std::optional<bool>(false));
}
