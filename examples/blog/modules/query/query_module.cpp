#include "query_module.hpp"

#include <atomic>
#include <mutex>

#include "blog/events.hpp"
#include "bus/bus.hpp"
#include "db/database.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "util/metrics.hpp"
#include "view_store.hpp"

namespace blog::query {
namespace {

using namespace ticketd;

class QueryModule final : public Module {
public:
    explicit QueryModule(const ModuleContext& ctx) : db_(ctx.open_database("query")) {}

    std::string_view name() const override { return "query"; }
    db::Database& database() override { return *db_; }

    void add_routes(http::Router& router) override {
        router.get("/posts", [this](const http::Request&) {
            return http::text_response(200, page(), "application/json; charset=utf-8");
        });
    }

    void add_listeners(bus::Bus& bus) override {
        bus.subscribe<events::PostCreated>("query.post-created", *db_,
                                           [this](db::WriteTx& tx, const events::PostCreated& e) {
                                               store_.add_post(tx, e);
                                               changed(tx);
                                               return bus::Outcome::ack;
                                           });
        // Each subscription reads the log at its own pace, so a comment's event can come before
        // its post's: it is asked for again, with backoff, and on the bus's last try it is kept
        // anyway, out of the page until its post arrives. Never parked, never lost.
        bus.subscribe<events::CommentCreated>(
            "query.comment-created", *db_,
            [this](db::WriteTx& tx, const events::CommentCreated& e, const bus::Envelope& env) {
                if (!store_.add_comment(tx, e)) {
                    if (!env.last_attempt) return bus::Outcome::retry;
                    store_.add_comment_before_post(tx, e);
                }
                changed(tx);
                return bus::Outcome::ack;
            });
        // Likewise a comment's update before the comment itself.
        bus.subscribe<events::CommentUpdated>(
            "query.comment-updated", *db_,
            [this](db::WriteTx& tx, const events::CommentUpdated& e, const bus::Envelope& env) {
                if (!store_.update_comment(tx, e)) {
                    if (!env.last_attempt) return bus::Outcome::retry;
                    store_.upsert_comment(tx, e);
                }
                changed(tx);
                return bus::Outcome::ack;
            });
    }

    void write_metrics(std::string& out) override {
        db::ReadLock read(*db_);
        metrics::write_help(out, "blog_query_posts", "gauge", "Posts in the query view.");
        metrics::write_sample(out, "blog_query_posts", "",
                              static_cast<double>(store_.count_posts(read)));
    }

private:
    // The rendered page is kept until the view next changes. A page rendered from a state that
    // changed meanwhile carries the older generation, and is never served.
    std::string page() {
        {
            std::lock_guard lock(cache_mutex_);
            if (cached_generation_ == generation_.load()) return cached_;
        }
        std::uint64_t generation = 0;
        std::string body;
        {
            db::ReadLock read(*db_);  // one render at a time: the others find it cached here
            generation = generation_.load();
            {
                std::lock_guard lock(cache_mutex_);
                if (cached_generation_ == generation) return cached_;
            }
            body = store_.render(read);
        }
        std::lock_guard lock(cache_mutex_);
        if (generation == generation_.load()) {
            cached_ = body;
            cached_generation_ = generation;
        }
        return body;
    }

    void changed(db::WriteTx& tx) {
        tx.on_commit([this] { generation_.fetch_add(1); });
    }

    std::unique_ptr<db::Database> db_;
    ViewStore store_;
    std::atomic<std::uint64_t> generation_{1};
    std::mutex cache_mutex_;
    std::string cached_;
    std::uint64_t cached_generation_ = 0;
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    return std::make_unique<QueryModule>(ctx);
}

}  // namespace blog::query
