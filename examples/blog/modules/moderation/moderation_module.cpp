#include "moderation_module.hpp"

#include <algorithm>
#include <cctype>

#include "blog/config.hpp"
#include "blog/events.hpp"
#include "bus/bus.hpp"
#include "db/database.hpp"
#include "decision_store.hpp"
#include "util/clock.hpp"
#include "util/metrics.hpp"
#include "util/time_format.hpp"

namespace blog::moderation {

std::optional<std::string> banned_word_in(std::string_view content,
                                          const std::vector<std::string>& banned) {
    auto lower = [](std::string_view s) {
        std::string out(s);
        std::transform(out.begin(), out.end(), out.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        return out;
    };
    std::string text = lower(content);
    for (const auto& word : banned)
        if (!word.empty() && text.find(lower(word)) != std::string::npos) return word;
    return std::nullopt;
}

namespace {

using namespace ticketd;

class ModerationModule final : public Module {
public:
    explicit ModerationModule(const ModuleContext& ctx)
        : db_(ctx.open_database("moderation")),
          bus_(ctx.bus),
          clock_(ctx.clock),
          banned_(ctx.settings<Config>().banned_words) {}

    std::string_view name() const override { return "moderation"; }
    db::Database& database() override { return *db_; }
    void add_routes(http::Router&) override {}

    void add_listeners(bus::Bus& bus) override {
        bus.publishes<events::CommentModerated>("moderation");
        bus.subscribe<events::CommentCreated>(
            "moderation.comment-created", *db_,
            [this](db::WriteTx& tx, const events::CommentCreated& e) {
                decide(tx, e);
                return bus::Outcome::ack;
            });
    }

    void write_metrics(std::string& out) override {
        db::ReadLock read(*db_);
        metrics::write_help(out, "blog_moderation_decisions", "gauge",
                            "Comments decided, by status.");
        for (auto status : {events::CommentStatus::approved, events::CommentStatus::rejected})
            metrics::write_sample(out, "blog_moderation_decisions",
                                  "status=\"" + std::string(events::to_text(status)) + "\"",
                                  static_cast<double>(store_.count(read, status)));
    }

private:
    void decide(db::WriteTx& tx, const events::CommentCreated& e) {
        auto word = banned_word_in(e.content, banned_);
        Decision d{
            .comment_id = e.id,
            .post_id = e.post_id,
            .status = word ? events::CommentStatus::rejected : events::CommentStatus::approved,
            .banned_word = word};
        if (!store_.record(tx, d, util::to_unix_ms(clock_.now()))) return;  // decided before
        bus_.publish(tx, events::CommentModerated{
                             .id = d.comment_id, .post_id = d.post_id, .status = d.status});
    }

    std::unique_ptr<db::Database> db_;
    bus::Bus& bus_;
    const util::Clock& clock_;
    std::vector<std::string> banned_;
    DecisionStore store_;
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    return std::make_unique<ModerationModule>(ctx);
}

}  // namespace blog::moderation
