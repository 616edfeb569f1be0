#include "support/recording_bus.hpp"

#include <stdexcept>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "embedded.hpp"
#include "support/test_server.hpp"
#include "util/base64.hpp"

namespace ticketd::test {

void RecordingBus::subscribe_raw(std::string name, std::string subject, db::Database& db,
                                 bus::RawHandler handler) {
    subs_[name] = Sub{std::move(subject), &db, std::move(handler)};
}

bus::Outcome RecordingBus::deliver_raw(const std::string& name, const std::string& subject,
                                       const std::string& payload, const std::string& event_id) {
    auto it = subs_.find(name);
    if (it == subs_.end()) throw std::logic_error("no subscriber " + name);
    if (it->second.subject != subject) throw std::logic_error(name + " does not take " + subject);
    db::WriteTx tx(*it->second.db);
    auto& seen = tx.statement("SELECT 1 FROM inbox WHERE subscriber = ? AND event_id = ?");
    seen.bind(1, name);
    seen.bind(2, event_id);
    if (seen.executeStep()) return bus::Outcome::ack;
    auto count_outbox = [&] {
        auto& q = tx.statement("SELECT subject FROM outbox ORDER BY id");
        std::vector<std::string> subjects;
        while (q.executeStep()) subjects.push_back(q.getColumn(0).getString());
        return subjects;
    };
    auto before = count_outbox().size();
    bus::RawEvent raw{.seq = 0,
                      .id = event_id,
                      .subject = subject,
                      .payload = payload,
                      .logged_at_ms = 0,
                      .source = ""};
    auto outcome = it->second.handler(tx, raw, bus::Envelope{raw.id, 0, 0, attempt, last_attempt});
    if (outcome == bus::Outcome::retry) return outcome;  // rolled back
    auto after = count_outbox();
    for (auto i = before; i < after.size(); ++i) published.push_back(after[i]);
    auto& ins =
        tx.statement("INSERT INTO inbox (subscriber, event_id, processed_at) VALUES (?, ?, 0)");
    ins.bind(1, name);
    ins.bind(2, event_id);
    ins.exec();
    tx.commit();
    return outcome;
}

ModuleContext ModuleHarness::context() {
    return ModuleContext{.config = config,
                         .bus = bus,
                         .clock = clock,
                         .sessions = sessions,
                         .workers = workers,
                         .post = [](std::function<void()> fn) { fn(); },
                         .make_timer =
                             [this] {
                                 auto t = std::make_unique<FakeTimer>();
                                 timers.push_back(t.get());
                                 return std::unique_ptr<util::Timer>(std::move(t));
                             },
                         .schema = schema_files()};
}

std::string session_cookie(const std::string& user_id, const std::string& email) {
    static util::SystemClock clock;
    http::Sessions sessions(test_config(":memory:").jwt_key, false, std::chrono::hours(1), clock);
    return util::base64_encode(
        boost::json::serialize(boost::json::object{{"jwt", sessions.issue(user_id, email)}}));
}

std::unique_ptr<HttpClient> as_user(TestServer& app, const std::string& user_id) {
    auto c = std::make_unique<HttpClient>(app.port());
    c->cookie = session_cookie(user_id);
    return c;
}

std::string error_message(const std::string& body, int i) {
    return std::string(boost::json::parse(body).at("errors").at(i).at("message").as_string());
}

std::string error_field(const std::string& body, int i) {
    return std::string(boost::json::parse(body).at("errors").at(i).at("field").as_string());
}

}  // namespace ticketd::test
