#include "posts_module.hpp"

#include <boost/json/object.hpp>

#include "blog/events.hpp"
#include "blog/text_input.hpp"
#include "bus/bus.hpp"
#include "db/database.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "post_store.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/metrics.hpp"
#include "util/time_format.hpp"

namespace blog::posts {
namespace {

using namespace ticketd;

class PostsModule final : public Module {
public:
    explicit PostsModule(const ModuleContext& ctx)
        : db_(ctx.open_database("posts")), bus_(ctx.bus), clock_(ctx.clock) {}

    std::string_view name() const override { return "posts"; }
    db::Database& database() override { return *db_; }

    void add_routes(http::Router& router) override {
        router.post("/posts/create", [this](const http::Request& req) {
            auto body = http::json_object(req);
            Post post{
                .id = util::random_id(),
                .title = text_field(body, {.key = "title",
                                           .required = "Title is required",
                                           .max = 200,
                                           .too_long = "Title must be at most 200 characters"})};
            db::WriteTx tx(*db_);
            store_.insert(tx, post, util::to_unix_ms(clock_.now()));
            bus_.publish(tx, events::PostCreated{.id = post.id, .title = post.title});
            tx.commit();
            return http::json(201, boost::json::object{{"id", post.id}, {"title", post.title}});
        });
    }

    void add_listeners(bus::Bus& bus) override { bus.publishes<events::PostCreated>("posts"); }

    void write_metrics(std::string& out) override {
        db::ReadLock read(*db_);
        metrics::write_help(out, "blog_posts", "gauge", "Posts written.");
        metrics::write_sample(out, "blog_posts", "", static_cast<double>(store_.count(read)));
    }

private:
    std::unique_ptr<db::Database> db_;
    bus::Bus& bus_;
    const util::Clock& clock_;
    PostStore store_;
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    return std::make_unique<PostsModule>(ctx);
}

}  // namespace blog::posts
