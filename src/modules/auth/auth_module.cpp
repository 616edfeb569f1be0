#include "auth_module.hpp"

#include <boost/json/object.hpp>

#include "credentials.hpp"
#include "db/database.hpp"
#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "http/session.hpp"
#include "password.hpp"
#include "sign_in_throttle.hpp"
#include "user_store.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "util/text.hpp"
#include "util/time_format.hpp"
#include "util/worker_pool.hpp"

namespace ticketd::auth {
namespace {

// Password hashes waiting for a worker, at most. Each costs ~45 ms of CPU and 16 MiB while it
// runs; beyond this queue a request would only wait longer, so it is turned away (503).
constexpr std::size_t max_queued_hashes = 64;

http::ApiError busy() {
    http::ApiError e(503, "Server busy, retry");
    e.headers.emplace_back("Retry-After", "1");
    return e;
}

http::ApiError too_many(std::string message, std::int64_t wait) {
    http::ApiError e(429, std::move(message));
    e.headers.emplace_back("Retry-After", std::to_string(wait));
    return e;
}

struct Credentials {
    std::string email;
    std::string password;
};

class AuthModule final : public Module {
public:
    explicit AuthModule(const ModuleContext& ctx)
        : db_(ctx.open_database("auth")),
          sessions_(ctx.sessions),
          workers_(ctx.workers),
          clock_(ctx.clock),
          throttle_(ctx.clock) {
        // Build the decoy hash now, not on the first sign-in of an unknown email.
        workers_.post([] { decoy_hash(); });
    }

    std::string_view name() const override { return "auth"; }
    db::Database& database() override { return *db_; }
    void add_listeners(bus::Bus&) override {}

    void add_routes(http::Router& router) override {
        router.add_async(
            "POST", "/api/users/signup",
            [this](const http::Request& req, http::Reply reply) { sign_up(req, reply); });
        router.add_async(
            "POST", "/api/users/signin",
            [this](const http::Request& req, http::Reply reply) { sign_in(req, reply); });
        router.post("/api/users/signout", [this](const http::Request&) {
            auto res = http::json(200, boost::json::object{});
            res.add_header("Set-Cookie", sessions_.clearing_cookie());
            return res;
        });
        router.get("/api/users/currentuser", [](const http::Request& req) {
            boost::json::value current = nullptr;
            if (const auto& user = req.user())
                current = boost::json::object{
                    {"id", user->id}, {"email", user->email}, {"iat", user->iat}};
            return http::json(200, boost::json::object{{"currentUser", current}});
        });
    }

private:
    // Validation for sign-up: every invalid field is reported at once.
    static Credentials sign_up_input(const http::Request& req) {
        auto body = http::json_object(req);
        http::Validation v;
        auto email = normalize_email(http::optional_string(body, "email").value_or(""));
        if (!email) v.fail("Email must be valid", "email");
        std::string password = http::trim(http::optional_string(body, "password").value_or(""));
        auto length = util::character_count(password);
        if (length < 4 || length > 20)
            v.fail("Password must be between 4 and 20 characters", "password");
        v.throw_if_failed();
        return {*email, password};
    }

    static Credentials sign_in_input(const http::Request& req) {
        auto body = http::json_object(req);
        http::Validation v;
        auto email = normalize_email(http::optional_string(body, "email").value_or(""));
        if (!email) v.fail("Email must be valid", "email");
        std::string password = http::trim(http::optional_string(body, "password").value_or(""));
        if (password.empty()) v.fail("You must supply a password", "password");
        v.throw_if_failed();
        return {*email, password};
    }

    http::Response signed_in(int status, const std::string& id, const std::string& email) {
        auto res = http::json(status, boost::json::object{{"id", id}, {"email", email}});
        res.add_header("Set-Cookie", sessions_.cookie_for(sessions_.issue(id, email)));
        return res;
    }

    std::optional<UserRecord> find_user(const std::string& email) {
        db::ReadLock read(*db_);
        return store_.find_by_email(read, email);
    }

    void sign_up(const http::Request& req, http::Reply reply) {
        Credentials input = sign_up_input(req);
        // Cheap early answer; the unique index below is what decides a race.
        if (find_user(input.email)) throw http::ApiError::bad_request("Email in use");
        if (auto wait = throttle_.begin_sign_up(req.client_address); wait > 0)
            throw too_many("Too many sign-ups from this address, try again later", wait);
        auto job = [this, input = std::move(input), reply, request_id = req.request_id] {
            try {
                UserRecord user{.id = util::random_id(),
                                .email = input.email,
                                .password_hash = hash_password(input.password)};
                db::WriteTx tx(*db_);
                if (!store_.insert(tx, user, util::to_unix_ms(clock_.now())))
                    throw http::ApiError::bad_request("Email in use");
                tx.commit();
                log::info("user signed up", {{"user_id", user.id}, {"request_id", request_id}});
                reply(signed_in(201, user.id, user.email));
            } catch (...) {
                reply.fail(std::current_exception());
            }
        };
        if (!workers_.try_post(std::move(job), max_queued_hashes)) throw busy();
    }

    void sign_in(const http::Request& req, http::Reply reply) {
        Credentials input = sign_in_input(req);
        std::int64_t wait = 0;
        auto slot = throttle_.begin_sign_in(input.email, req.client_address, wait);
        if (!slot) throw too_many("Too many failed sign-ins, try again later", wait);
        auto job = [this, input = std::move(input), reply, slot = *slot,
                    request_id = req.request_id] {
            try {
                auto user = find_user(input.email);
                // An unknown email costs one scrypt too, so timing does not tell who has an
                // account.
                bool ok =
                    verify_password(input.password, user ? user->password_hash : decoy_hash()) &&
                    user.has_value();
                if (!ok) {  // the slot taken above stays counted as the failure
                    log::info("sign-in failed", {{"request_id", request_id}});
                    throw http::ApiError::bad_request("Invalid credentials");
                }
                throttle_.succeeded(slot);
                reply(signed_in(200, user->id, user->email));
            } catch (...) {
                reply.fail(std::current_exception());
            }
        };
        if (!workers_.try_post(std::move(job), max_queued_hashes)) {
            throttle_.release(*slot);  // not tried: neither a failure nor a success
            throw busy();
        }
    }

    std::unique_ptr<db::Database> db_;
    UserStore store_;
    const http::Sessions& sessions_;
    util::WorkerPool& workers_;
    const util::Clock& clock_;
    SignInThrottle throttle_;
};

}  // namespace

std::unique_ptr<Module> make_module(const ModuleContext& ctx) {
    return std::make_unique<AuthModule>(ctx);
}

}  // namespace ticketd::auth
