#pragma once
// "POST /api/orders/:id" -> handler. The one place where errors become responses.
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace ticketd::http {

class ApiError;
class Router;

using Handler = std::function<Response(const Request&)>;

// How an asynchronous handler answers, exactly once, from any thread: with a response, or with
// an exception that the router maps like a thrown one. The request stays alive until then.
class Reply {
public:
    void operator()(Response response) const;
    void fail(std::exception_ptr error) const;

private:
    friend class Router;
    struct State;
    explicit Reply(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
};

using AsyncHandler = std::function<void(const Request&, Reply)>;
// A step run for every matched route before its handler (session, cross-site check). It may
// fill in the request or throw ApiError.
using Step = std::function<void(Request&)>;

class Router {
public:
    // Patterns are literal segments and ":name" parameters: "/api/tickets/:id". A trailing slash
    // in a request path is ignored. Registering the same method and pattern twice is a
    // std::logic_error. Register everything before the server starts; dispatch is then
    // thread-safe.
    void add(std::string_view method, std::string_view pattern, Handler handler);
    void add_async(std::string_view method, std::string_view pattern, AsyncHandler handler);
    void get(std::string_view p, Handler h) { add("GET", p, std::move(h)); }
    void post(std::string_view p, Handler h) { add("POST", p, std::move(h)); }
    void put(std::string_view p, Handler h) { add("PUT", p, std::move(h)); }
    void del(std::string_view p, Handler h) { add("DELETE", p, std::move(h)); }

    void before(Step step) { steps_.push_back(std::move(step)); }
    // Answers GET/HEAD requests that match no route (the web UI's app shell and assets).
    void set_fallback(Handler handler) { fallback_ = std::move(handler); }

    // Routes `req` and calls `done` exactly once with the response: 404 for an unknown path,
    // 405 (with Allow) for a known path with another method, the ApiError's status and body for
    // one thrown, and 500 "Something went wrong" for anything else (logged, never sent).
    void dispatch(Request req, std::function<void(Response)> done) const;
    // dispatch() for callers that can wait (tests, fuzzing): blocks until the handler replies.
    Response handle(Request req) const;

    struct RouteInfo {
        std::string method;
        std::string pattern;
    };
    std::vector<RouteInfo> routes() const;

private:
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<std::string> segments;
        Handler handler;
        AsyncHandler async_handler;
    };
    void add_route(Route route);
    static bool match(const Route& route, const std::vector<std::string_view>& path, Request* fill);

    std::deque<Route> routes_;  // a deque: a route's address never changes (metrics point to it)
    std::vector<Step> steps_;
    Handler fallback_;
};

// The response for an ApiError: its status, its headers, and the {"errors":[...]} body.
Response error_response(const ApiError& error);
// The response for any exception escaping a handler, logged with the request id.
Response exception_response(std::exception_ptr error, const Request& req);

}  // namespace ticketd::http
