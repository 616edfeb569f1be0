// Stripe's REST API over HTTPS (Beast on OpenSSL, certificate and host name verified), on a
// thread and io_context of its own so no call ever blocks an HTTP thread. Each request has a
// timeout; a network error, a timeout or a 5xx is retried with the same Idempotency-Key, so
// Stripe performs the charge at most once however often we ask.
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <openssl/ssl.h>

#include "config.hpp"
#include "http/message.hpp"
#include "payment_provider.hpp"
#include "util/log.hpp"
#include "util/thread_name.hpp"

namespace ticketd::payments {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Kind = ProviderResult::Kind;

struct BaseUrl {
    bool tls = true;
    std::string host;
    std::string port;
    std::string prefix;  // path prefix without trailing slash
};

BaseUrl parse_base(const std::string& url) {
    BaseUrl b;
    std::string rest;
    if (url.rfind("https://", 0) == 0) {
        rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
        b.tls = false;
        rest = url.substr(7);
    } else {
        throw std::invalid_argument("STRIPE_API_BASE must start with https:// or http://");
    }
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    b.prefix = slash == std::string::npos ? "" : rest.substr(slash);
    while (!b.prefix.empty() && b.prefix.back() == '/') b.prefix.pop_back();
    auto colon = authority.rfind(':');
    if (colon != std::string::npos) {
        b.host = authority.substr(0, colon);
        b.port = authority.substr(colon + 1);
    } else {
        b.host = authority;
        b.port = b.tls ? "443" : "80";
    }
    if (b.host.empty()) throw std::invalid_argument("STRIPE_API_BASE has no host");
    return b;
}

struct HttpAnswer {
    int status = 0;
    std::string body;
};

// A 4xx other than 409 and 429: Stripe did nothing. Only what concerns the buyer is shown to
// the buyer: a card error, or a token (the `source` they sent) that Stripe does not know. A
// message about our key or our request is for the log. An idempotency error means this key
// cannot tell what happened, so the outcome stays unknown.
ProviderResult classify_refusal(const HttpAnswer& answer) {
    std::string type, message, param;
    boost::system::error_code ec;
    auto v = boost::json::parse(answer.body, ec);
    if (!ec && v.is_object()) {
        auto* err = v.as_object().if_contains("error");
        if (err && err->is_object()) {
            auto text = [&](const char* key) {
                auto* f = err->as_object().if_contains(key);
                return f && f->is_string() ? std::string(f->as_string()) : std::string();
            };
            type = text("type");
            message = text("message");
            param = text("param");
        }
    }
    if (type == "idempotency_error")
        return {.kind = Kind::unknown, .id = "", .message = "Stripe idempotency error: " + message};
    bool for_buyer = type == "card_error" || (type.empty() && answer.status == 402) ||
                     (type == "invalid_request_error" && param == "source");
    if (for_buyer)
        return {.kind = Kind::declined,
                .id = "",
                .message = message.empty() ? "Your card was declined." : message};
    return {.kind = Kind::refused,
            .id = "",
            .message = "HTTP " + std::to_string(answer.status) + " " +
                       (type.empty() ? "" : type + ": ") + message};
}

class StripeProvider final : public PaymentProvider {
public:
    explicit StripeProvider(const Config& config)
        : key_(config.stripe_key),
          base_(parse_base(config.stripe_api_base)),
          timeout_(config.stripe_timeout_ms),
          tls_(ssl::context::tls_client),
          work_(net::make_work_guard(ioc_)) {
        if (key_.empty())
            throw std::invalid_argument("STRIPE_KEY must be set for --payments stripe");
        tls_.set_default_verify_paths();
        tls_.set_verify_mode(ssl::verify_peer);
        thread_ = std::thread([this] {
            util::name_this_thread("stripe-io");
            ioc_.run();
        });
    }

    ~StripeProvider() override {
        work_.reset();
        ioc_.stop();
        if (thread_.joinable()) thread_.join();
    }

    void charge(ChargeRequest r, std::function<void(ProviderResult)> done) override {
        std::string form = "amount=" + std::to_string(r.amount_cents) +
                           "&currency=" + http::percent_encode(r.currency) +
                           "&source=" + http::percent_encode(r.source) +
                           "&description=" + http::percent_encode(r.description);
        start("/v1/charges", std::move(form), std::move(r.idempotency_key), std::move(done));
    }

    void refund(RefundRequest r, std::function<void(ProviderResult)> done) override {
        start("/v1/refunds", "charge=" + http::percent_encode(r.charge_id),
              std::move(r.idempotency_key), std::move(done));
    }

private:
    static constexpr int max_tries = 4;

    void start(std::string path, std::string form, std::string key,
               std::function<void(ProviderResult)> done) {
        net::co_spawn(ioc_, call(std::move(path), std::move(form), std::move(key)),
                      [done = std::move(done)](std::exception_ptr e, ProviderResult result) {
                          if (e) result = {Kind::unknown, "", "payment provider call failed"};
                          done(std::move(result));
                      });
    }

    net::awaitable<ProviderResult> call(std::string path, std::string form, std::string key) {
        std::string last_error;
        for (int attempt = 1; attempt <= max_tries; ++attempt) {
            HttpAnswer answer;
            try {
                answer = co_await send(path, form, key);
            } catch (const std::exception& e) {
                last_error = e.what();
                answer.status = 0;
            }
            if (answer.status >= 200 && answer.status < 300) {
                boost::system::error_code ec;
                auto v = boost::json::parse(answer.body, ec);
                if (!ec && v.is_object() && v.as_object().contains("id") && v.at("id").is_string())
                    co_return ProviderResult{.kind = Kind::succeeded,
                                             .id = std::string(v.at("id").as_string()),
                                             .message = ""};
                // Stripe acted, or not: asking again later with the same key replays this
                // answer, so it stays unknown rather than being retried now.
                co_return ProviderResult{
                    .kind = Kind::unknown, .id = "", .message = "unreadable answer from Stripe"};
            }
            if (answer.status >= 400 && answer.status < 500 && answer.status != 409 &&
                answer.status != 429)
                co_return classify_refusal(answer);
            if (answer.status != 0) last_error = "HTTP " + std::to_string(answer.status);
            log::warn(
                "stripe call failed, retrying with the same idempotency key",
                {{"path", path}, {"attempt", std::to_string(attempt)}, {"error", last_error}});
            if (attempt < max_tries) {
                net::steady_timer wait(ioc_, std::chrono::milliseconds(200 * (1 << (attempt - 1))));
                co_await wait.async_wait(net::use_awaitable);
            }
        }
        co_return ProviderResult{.kind = Kind::unknown, .id = "", .message = last_error};
    }

    net::awaitable<HttpAnswer> send(const std::string& path, const std::string& form,
                                    const std::string& key) {
        tcp::resolver resolver(ioc_);
        auto endpoints =
            co_await resolver.async_resolve(base_.host, base_.port, net::use_awaitable);
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, base_.prefix + path, 11};
        req.set(bhttp::field::host, base_.host);
        req.set(bhttp::field::authorization, "Bearer " + key_);
        req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
        req.set("Idempotency-Key", key);
        req.set(bhttp::field::user_agent, "ticketd");
        req.body() = form;
        req.prepare_payload();
        bhttp::response<bhttp::string_body> res;
        beast::flat_buffer buffer;
        if (base_.tls) {
            beast::ssl_stream<beast::tcp_stream> stream(ioc_, tls_);
            if (!SSL_set_tlsext_host_name(stream.native_handle(), base_.host.c_str()))
                throw std::runtime_error("cannot set TLS server name");
            stream.set_verify_callback(ssl::host_name_verification(base_.host));
            beast::get_lowest_layer(stream).expires_after(timeout_);
            co_await beast::get_lowest_layer(stream).async_connect(endpoints, net::use_awaitable);
            co_await stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
            co_await bhttp::async_write(stream, req, net::use_awaitable);
            co_await bhttp::async_read(stream, buffer, res, net::use_awaitable);
        } else {
            beast::tcp_stream stream(ioc_);
            stream.expires_after(timeout_);
            co_await stream.async_connect(endpoints, net::use_awaitable);
            co_await bhttp::async_write(stream, req, net::use_awaitable);
            co_await bhttp::async_read(stream, buffer, res, net::use_awaitable);
        }
        co_return HttpAnswer{static_cast<int>(res.result_int()), std::move(res.body())};
    }

    std::string key_;
    BaseUrl base_;
    std::chrono::milliseconds timeout_;
    net::io_context ioc_;
    ssl::context tls_;
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::thread thread_;
};

}  // namespace

std::unique_ptr<PaymentProvider> make_stripe_provider(const Config& config) {
    return std::make_unique<StripeProvider>(config);
}

}  // namespace ticketd::payments
