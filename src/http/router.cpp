#include "http/router.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <stdexcept>

#include "http/api_error.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

namespace ticketd::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path.front() != '/') return out;
    path.remove_prefix(1);
    if (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (path.empty()) return out;
    while (true) {
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

}  // namespace

struct Reply::State {
    Request request;
    std::function<void(Response)> done;
    std::atomic<bool> replied{false};
};

void Reply::operator()(Response response) const {
    if (state_->replied.exchange(true)) return;
    state_->done(std::move(response));
}

void Reply::fail(std::exception_ptr error) const {
    if (state_->replied.exchange(true)) return;
    state_->done(exception_response(error, state_->request));
}

Response error_response(const ApiError& error) {
    Response r = text_response(error.status(), error_body(error.errors()),
                               "application/json; charset=utf-8");
    for (const auto& [name, value] : error.headers) r.set_header(name, value);
    return r;
}

Response exception_response(std::exception_ptr error, const Request& req) {
    try {
        std::rethrow_exception(error);
    } catch (const ApiError& e) {
        return error_response(e);
    } catch (const std::exception& e) {
        log::error("request failed", {{"request_id", req.request_id},
                                      {"method", req.method},
                                      {"route", req.route.empty() ? req.path : req.route},
                                      {"error", e.what()}});
    } catch (...) {
        log::error("request failed",
                   {{"request_id", req.request_id}, {"error", "unknown exception"}});
    }
    return error_response(ApiError(500, "Something went wrong"));
}

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
    add_route({std::string(method), std::string(pattern), {}, std::move(handler), {}});
}

void Router::add_async(std::string_view method, std::string_view pattern, AsyncHandler handler) {
    add_route({std::string(method), std::string(pattern), {}, {}, std::move(handler)});
}

void Router::add_route(Route route) {
    for (auto seg : split_path(route.pattern)) route.segments.emplace_back(seg);
    auto shape = [](const std::vector<std::string>& segments) {
        std::vector<std::string> out;
        for (const auto& s : segments) out.push_back(!s.empty() && s.front() == ':' ? ":" : s);
        return out;
    };
    for (const auto& r : routes_)
        if (r.method == route.method && shape(r.segments) == shape(route.segments))
            throw std::logic_error("route registered twice: " + route.method + " " + route.pattern);
    routes_.push_back(std::move(route));
}

bool Router::match(const Route& route, const std::vector<std::string_view>& path, Request* fill) {
    if (route.segments.size() != path.size()) return false;
    for (std::size_t i = 0; i < path.size(); ++i) {
        const auto& seg = route.segments[i];
        if (!seg.empty() && seg.front() == ':') {
            if (path[i].empty()) return false;
            continue;
        }
        if (seg != path[i]) return false;
    }
    if (fill) {
        for (std::size_t i = 0; i < path.size(); ++i)
            if (!route.segments[i].empty() && route.segments[i].front() == ':')
                fill->params[route.segments[i].substr(1)] = percent_decode(path[i], false);
        fill->route = route.pattern;
    }
    return true;
}

void Router::dispatch(Request req, std::function<void(Response)> inner_done) const {
    auto started = std::chrono::steady_clock::now();
    auto path = split_path(req.path);
    bool path_known = false;
    const Route* found = nullptr;
    std::string_view method = req.method == "HEAD" ? std::string_view("GET") : req.method;
    bool well_formed =
        !req.path.empty() && req.path.front() == '/' && req.path.find("//") == std::string::npos;
    if (well_formed) {
        for (const auto& route : routes_) {
            if (!match(route, path, nullptr)) continue;
            path_known = true;
            if (route.method == method) {
                found = &route;
                break;
            }
        }
    }
    // Every response is counted under its route pattern ("static" for files, else "unmatched"),
    // with its latency. Routes are fixed once the server runs, so the pattern can be pointed to.
    static const std::string unmatched = "unmatched", static_files = "static";
    const std::string* route_name = found ? &found->pattern
                                    : (!path_known && fallback_ && method == "GET") ? &static_files
                                                                                    : &unmatched;
    auto done = [inner_done = std::move(inner_done), started, method = req.method,
                 route_name](Response r) {
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        metrics::record_request(*route_name, method, r.status, seconds);
        inner_done(std::move(r));
    };
    if (!found) {
        if (route_name == &static_files) {
            try {
                done(fallback_(req));
            } catch (...) {
                done(exception_response(std::current_exception(), req));
            }
            return;
        }
        if (!path_known) {
            done(error_response(ApiError::not_found()));
            return;
        }
        std::set<std::string> allowed;
        for (const auto& route : routes_)
            if (match(route, path, nullptr)) allowed.insert(route.method);
        ApiError e(405, "Method Not Allowed");
        std::string allow;
        for (const auto& m : allowed) {
            if (!allow.empty()) allow += ", ";
            allow += m;
            if (m == "GET") allow += ", HEAD";
        }
        e.headers.emplace_back("Allow", allow);
        done(error_response(e));
        return;
    }
    match(*found, path, &req);
    try {
        for (const auto& step : steps_) step(req);
        if (found->handler) {
            done(found->handler(req));
            return;
        }
    } catch (...) {
        done(exception_response(std::current_exception(), req));
        return;
    }
    auto state = std::make_shared<Reply::State>();
    state->request = std::move(req);
    state->done = std::move(done);
    Reply reply(state);
    try {
        found->async_handler(state->request, reply);
    } catch (...) {
        reply.fail(std::current_exception());
    }
}

Response Router::handle(Request req) const {
    std::promise<Response> promise;
    auto result = promise.get_future();
    dispatch(std::move(req), [&promise](Response r) { promise.set_value(std::move(r)); });
    return result.get();
}

std::vector<Router::RouteInfo> Router::routes() const {
    std::vector<RouteInfo> out;
    for (const auto& r : routes_) out.push_back({r.method, r.pattern});
    return out;
}

}  // namespace ticketd::http
