#pragma once
// A Bus for unit tests of a module's listeners: it records subscriptions so a test can deliver
// events by hand, in any order, any number of times, and it counts what the module publishes.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "host/module.hpp"
#include "http/session.hpp"
#include "support/http_client.hpp"
#include "util/clock.hpp"
#include "util/timer.hpp"
#include "util/worker_pool.hpp"

namespace ticketd::test {

class RecordingBus final : public bus::Bus {
public:
    void attach_outbox(db::Database&) override {}
    void start() override {}
    void stop() override {}
    bool running() const override { return true; }
    bool wait_idle(std::chrono::milliseconds) override { return true; }
    std::vector<bus::SubscriberStatus> subscribers() const override { return {}; }

    // Delivers `event` to the subscriber `name` the way LocalBus does: in a WriteTx on its
    // database, skipping event ids already in its inbox. Returns the handler's outcome.
    template <events::Contract E>
    bus::Outcome deliver(const std::string& name, const E& event, const std::string& event_id) {
        return deliver_raw(name, std::string(E::subject), events::encode(event), event_id);
    }
    bus::Outcome deliver_raw(const std::string& name, const std::string& subject,
                             const std::string& payload, const std::string& event_id);

    // The try that deliver() reports to handlers (LocalBus parks after the last one).
    int attempt = 1;
    bool last_attempt = false;

    // Subjects of the events published so far (written to outboxes), in order.
    std::vector<std::string> published;

protected:
    void outbox_committed(db::Database&) override {}
    void subscribe_raw(std::string name, std::string subject, db::Database& db,
                       bus::RawHandler handler) override;

private:
    struct Sub {
        std::string subject;
        db::Database* db;
        bus::RawHandler handler;
    };
    std::map<std::string, Sub> subs_;
};

// A timer that fires only when a test says so.
class FakeTimer final : public util::Timer {
public:
    void arm(std::chrono::milliseconds delay, std::function<void()> fire) override {
        armed_delay = delay;
        callback = std::move(fire);
    }
    void cancel() override { callback = nullptr; }
    // Fires if armed; returns whether it was.
    bool fire() {
        auto cb = std::move(callback);
        callback = nullptr;
        if (cb) cb();
        return static_cast<bool>(cb);
    }
    std::optional<std::chrono::milliseconds> armed_delay;
    std::function<void()> callback;
};

// Everything a module needs to be built for a unit test: in-memory databases, a manual clock,
// a recording bus.
struct ModuleHarness {
    Config config;
    RecordingBus bus;
    util::ManualClock clock{std::chrono::system_clock::now()};
    http::Sessions sessions{"unit-test-key", false, std::chrono::hours(1), clock};
    util::WorkerPool workers{1};
    std::vector<FakeTimer*> timers;  // every timer the module made, owned by the module
    ModuleContext context();
    ModuleHarness() { config.data_dir = ":memory:"; }
};

// A session cookie value for any user id, signed with test_config()'s key: lets HTTP tests act as
// many users without paying for a password hash per user.
std::string session_cookie(const std::string& user_id,
                           const std::string& email = "user@example.com");

class TestServer;
// A client of `app` that is signed in as `user_id`.
std::unique_ptr<HttpClient> as_user(TestServer& app, const std::string& user_id);

// The message (and field) of the i-th entry of an API error body.
std::string error_message(const std::string& body, int i = 0);
std::string error_field(const std::string& body, int i = 0);

}  // namespace ticketd::test
