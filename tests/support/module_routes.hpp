#pragma once
// For unit tests of one module: the module built on a ModuleHarness (in-memory database,
// recording bus, manual clock, fake timers), its routes in a router that requests are
// dispatched to directly, without a server.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "host/module.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "support/recording_bus.hpp"
#include "ticketd/events/order_events.hpp"

namespace ticketd::test {

// A POST as `user_id`, dispatched straight to `router`; the response lands in the
// returned slot whenever the handler replies.
struct PendingResponse {
    std::mutex m;
    std::condition_variable cv;
    std::optional<http::Response> response;
    std::optional<http::Response> wait() {
        std::unique_lock lock(m);
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return response.has_value(); });
        return response;
    }
    bool answered() {
        std::lock_guard lock(m);
        return response.has_value();
    }
};

inline std::shared_ptr<PendingResponse> post(const http::Router& router, const std::string& user_id,
                                             const std::string& path, std::string body) {
    http::Request req;
    req.method = "POST";
    req.target = req.path = path;
    req.body = std::move(body);
    req.headers.push_back({"Content-Type", "application/json"});
    req.current_user = http::User{user_id, user_id + "@example.com", 0};
    auto pending = std::make_shared<PendingResponse>();
    router.dispatch(std::move(req), [pending](http::Response res) {
        std::lock_guard lock(pending->m);
        pending->response = std::move(res);
        pending->cv.notify_all();
    });
    return pending;
}
inline std::shared_ptr<PendingResponse> post_payment(const http::Router& router,
                                                     const std::string& user_id,
                                                     const std::string& order_id) {
    return post(router, user_id, "/api/payments",
                R"({"token":"tok_visa","orderId":")" + order_id + R"("})");
}
inline std::shared_ptr<PendingResponse> post_order(const http::Router& router,
                                                   const std::string& user_id,
                                                   const std::string& ticket_id) {
    return post(router, user_id, "/api/orders", R"({"ticketId":")" + ticket_id + R"("})");
}

// A module made by `make` on a ModuleHarness with its routes in a router, started.
struct ModuleRoutes {
    ModuleHarness h;
    std::unique_ptr<Module> module;
    http::Router router;
    ModuleRoutes(std::unique_ptr<Module> (*make)(const ModuleContext&), int order_wait_ms = 1000) {
        h.config.order_wait_ms = order_wait_ms;
        module = make(h.context());
        module->add_listeners(h.bus);
        module->add_routes(router);
        module->start();
    }
    ~ModuleRoutes() { module->stop(); }
};

// An order:created for order o1 of ticket t1, bought by "buyer".
inline const events::OrderCreated order_o1{.id = "o1",
                                           .version = 0,
                                           .status = "created",
                                           .user_id = "buyer",
                                           .expires_at = "2030-01-01T00:00:00.000Z",
                                           .ticket = {.id = "t1", .price_cents = 1000}};

}  // namespace ticketd::test
