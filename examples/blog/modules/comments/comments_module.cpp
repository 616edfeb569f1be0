#include "comments_module.hpp"

#include <atomic>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "blog/config.hpp"
#include "blog/events.hpp"
#include "blog/text_input.hpp"
#include "bus/bus.hpp"
#include "comment_store.hpp"
#include "db/database.hpp"
#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "util/arrival_waiters.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/metrics.hpp"
#include "util/time_format.hpp"

namespace blog::comments {
namespace {

using namespace ticketd;

boost::json::array to_json(const std::vector<Comment>& comments) {
    boost::json::array list;
    for (const auto& c : comments)
        list.push_back(boost::json::object{
            {"id", c.id}, {"content", c.content}, {"status", events::to_text(c.status)}});
    return list;
}

class CommentsModule final : public Module {
public:
    explicit CommentsModule(const ModuleContext& ctx)
        : db_(ctx.open_database("comments")),
          bus_(ctx.bus),
          clock_(ctx.clock),
          // The bus is asynchronous: a post can be commented on the moment POST /posts/create
          // has answered, before this module has heard of it.
          post_wait_(ctx.settings<Config>().post_wait_ms),
          arrivals_(ctx.make_timer(), ctx.post, ctx.clock, post_wait_) {}

    std::string_view name() const override { return "comments"; }
    db::Database& database() override { return *db_; }

    void add_routes(http::Router& router) override {
        router.add_async(
            "POST", "/posts/:id/comments", [this](const http::Request& req, http::Reply reply) {
                auto body = http::json_object(req);
                Comment comment{.id = util::random_id(),
                                .post_id = std::string(req.param("id")),
                                .content = text_field(
                                    body, {.key = "content",
                                           .required = "Content is required",
                                           .max = 1000,
                                           .too_long = "Content must be at most 1000 characters"}),
                                .status = events::CommentStatus::pending};
                once_post_known(comment.post_id, std::move(reply), [this, comment] {
                    return http::json(201, to_json(add_comment(comment)));
                });
            });
        router.add_async("GET", "/posts/:id/comments",
                         [this](const http::Request& req, http::Reply reply) {
                             std::string post_id(req.param("id"));
                             once_post_known(post_id, std::move(reply), [this, post_id] {
                                 db::ReadLock read(*db_);
                                 return http::json(200, to_json(store_.for_post(read, post_id)));
                             });
                         });
    }

    void add_listeners(bus::Bus& bus) override {
        bus.publishes<events::CommentCreated>("comments");
        bus.publishes<events::CommentUpdated>("comments");
        bus.subscribe<events::PostCreated>(
            "comments.post-created", *db_, [this](db::WriteTx& tx, const events::PostCreated& e) {
                if (store_.add_post(tx, e.id, e.title))
                    tx.on_commit([this, id = e.id] { arrivals_.arrived(id); });
                return bus::Outcome::ack;
            });
        bus.subscribe<events::CommentModerated>(
            "comments.comment-moderated", *db_,
            [this](db::WriteTx& tx, const events::CommentModerated& e) {
                return on_moderated(tx, e);
            });
    }

    void stop() override {
        stopping_ = true;  // the waiters answered now must not write after the server stopped
        arrivals_.cancel_all();
    }

    void write_metrics(std::string& out) override {
        db::ReadLock read(*db_);
        metrics::write_help(out, "blog_comments_pending", "gauge",
                            "Comments waiting for moderation.");
        metrics::write_sample(out, "blog_comments_pending", "",
                              static_cast<double>(store_.count_pending(read)));
    }

private:
    // Runs `answer` once the post is known here: at once, or after waiting up to --post-wait for
    // its post:created; 404 if it does not come.
    void once_post_known(const std::string& post_id, http::Reply reply,
                         std::function<http::Response()> answer) {
        auto known = [this, post_id] {
            db::ReadLock read(*db_);
            return store_.has_post(read, post_id);
        };
        // `present`: the post was seen (no need to look again); false after the wait, or at
        // shutdown.
        auto finish = [this, reply, answer, known](bool present) {
            try {
                if (stopping_) throw http::ApiError(503, "Server busy, retry");
                if (!present && !known()) throw http::ApiError::not_found();
                reply(answer());
            } catch (...) {
                reply.fail(std::current_exception());
            }
        };
        if (post_wait_.count() == 0)
            finish(known());
        else if (arrivals_.present_or_wait(post_id, known, finish))
            finish(true);
    }

    // The comment and its comment:created commit together; the answer is the post's comments.
    std::vector<Comment> add_comment(const Comment& comment) {
        db::WriteTx tx(*db_);
        store_.insert(tx, comment, util::to_unix_ms(clock_.now()));
        bus_.publish(tx, events::CommentCreated{.id = comment.id,
                                                .post_id = comment.post_id,
                                                .content = comment.content,
                                                .status = comment.status});
        auto all = store_.for_post(tx, comment.post_id);
        tx.commit();
        return all;
    }

    bus::Outcome on_moderated(db::WriteTx& tx, const events::CommentModerated& e) {
        auto comment = store_.find(tx, e.id);
        if (!comment) return bus::Outcome::retry;  // not ours (yet): ask again, then park it
        if (comment->status == e.status) return bus::Outcome::ack;
        store_.set_status(tx, e.id, e.status);
        bus_.publish(tx, events::CommentUpdated{.id = comment->id,
                                                .post_id = comment->post_id,
                                                .content = comment->content,
                                                .status = e.status});
        return bus::Outcome::ack;
    }

    std::unique_ptr<db::Database> db_;
    bus::Bus& bus_;
    const util::Clock& clock_;
    std::chrono::milliseconds post_wait_;
    util::ArrivalWaiters arrivals_;
    std::atomic<bool> stopping_{false};
    CommentStore store_;
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    return std::make_unique<CommentsModule>(ctx);
}

}  // namespace blog::comments
