#include "support/stripe_stub.hpp"

#include <sstream>

#include "http/message.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace ticketd::test {
namespace {

std::string form_unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_form(const std::string& body) {
    std::map<std::string, std::string> out;
    std::istringstream in(body);
    std::string pair;
    while (std::getline(in, pair, '&')) {
        auto eq = pair.find('=');
        if (eq != std::string::npos) out[pair.substr(0, eq)] = form_unescape(pair.substr(eq + 1));
    }
    return out;
}

std::string error_body(const std::string& type, const std::string& code, const std::string& message,
                       const std::string& param = "") {
    return R"({"error":{"type":")" + type + R"(","code":")" + code + R"(","message":")" + message +
           R"(")" + (param.empty() ? "" : R"(,"param":")" + param + R"(")") + "}}";
}

}  // namespace

StripeStub::StripeStub(std::uint16_t port) : port_(port) {
    router_ = std::make_unique<http::Router>();
    auto handler = [this](const http::Request& req, http::Reply reply) {
        Seen s{req.path, std::string(req.header("authorization").value_or("")),
               std::string(req.header("idempotency-key").value_or("")),
               std::string(req.header("content-type").value_or("")), req.body};
        Answer a = act(s);
        auto response = http::text_response(a.status, a.body, "application/json");
        std::lock_guard lock(m_);
        if (delay_.count() == 0) return reply(std::move(response));
        late_.emplace_back([reply, response, delay = delay_] {
            std::this_thread::sleep_for(delay);
            reply(response);
        });
    };
    router_->add_async("POST", "/v1/charges", handler);
    router_->add_async("POST", "/v1/refunds", handler);
    start();
}

StripeStub::~StripeStub() {
    for (auto& t : late_) t.join();
    server_.reset();
}

void StripeStub::start() {
    http::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.threads = 2;
    o.access_log = false;
    o.shutdown_grace = std::chrono::milliseconds(0);
    server_ = std::make_unique<http::Server>(*router_, o);
    server_->start();
    port_ = server_->port();
}

void StripeStub::stop() { server_.reset(); }

StripeStub::Answer StripeStub::act(const Seen& s) {
    std::lock_guard lock(m_);
    seen_.push_back(s);
    if (s.path == "/v1/charges") ++charge_requests_;
    cv_.notify_all();
    if (s.authorization != "Bearer sk_test_123")
        return {401, error_body("invalid_request_error", "", "Invalid API Key provided: sk_****")};
    if (!script_.empty()) {
        int status = script_.front();
        script_.erase(script_.begin());
        if (status == 402)
            return {402, error_body("card_error", "card_declined", "Your card was declined.")};
        return {status, error_body("api_error", "", "Something went wrong on Stripe's end.")};
    }
    Answer answer;
    auto stored = by_key_.find(s.idempotency_key);
    if (!s.idempotency_key.empty() && stored != by_key_.end()) {
        if (stored->second.path != s.path || stored->second.body != s.body)
            return {400,
                    error_body(
                        "idempotency_error", "",
                        "Keys for idempotent requests can only be used with the same parameters")};
        answer = stored->second.answer;  // Stripe replays the first answer for a key
    } else {
        auto form = parse_form(s.body);
        answer = s.path == "/v1/charges" ? charge(form, s.idempotency_key) : refund(form);
        if (!s.idempotency_key.empty()) by_key_[s.idempotency_key] = {s.path, s.body, answer};
    }
    if (lose_ > 0) {
        --lose_;
        return {500, error_body("api_error", "", "The answer was lost.")};
    }
    return answer;
}

StripeStub::Answer StripeStub::charge(const std::map<std::string, std::string>& form,
                                      const std::string& key) {
    auto source = form.count("source") ? form.at("source") : "";
    if (source == "tok_chargeDeclined")
        return {402, error_body("card_error", "card_declined", "Your card was declined.")};
    if (source != "tok_visa")
        return {400, error_body("invalid_request_error", "resource_missing",
                                "No such token: '" + source + "'", "source")};
    Charge c{"ch_stub_" + std::to_string(charges_.size() + 1), key,
             form.count("description") ? form.at("description") : "",
             form.count("amount") ? std::stoll(form.at("amount")) : 0, false};
    charges_.push_back(c);
    return {200, R"({"id":")" + c.id + R"(","object":"charge","amount":)" +
                     std::to_string(c.amount_cents) + "}"};
}

StripeStub::Answer StripeStub::refund(const std::map<std::string, std::string>& form) {
    auto id = form.count("charge") ? form.at("charge") : "";
    for (auto& c : charges_) {
        if (c.id != id) continue;
        if (c.refunded || refuse_refunds_)
            return {400, error_body("invalid_request_error", "charge_already_refunded",
                                    "Charge " + id + " has already been refunded.")};
        c.refunded = true;
        ++refunds_;
        return {200, R"({"id":"re_stub_)" + std::to_string(refunds_) + R"(","object":"refund"})"};
    }
    return {400, error_body("invalid_request_error", "resource_missing",
                            "No such charge: '" + id + "'", "charge")};
}

void StripeStub::script(std::vector<int> statuses) {
    std::lock_guard lock(m_);
    script_ = std::move(statuses);
}
void StripeStub::lose_answers(int n) {
    std::lock_guard lock(m_);
    lose_ = n;
}
void StripeStub::answer_after(std::chrono::milliseconds delay) {
    std::lock_guard lock(m_);
    delay_ = delay;
}
void StripeStub::refuse_refunds(bool refuse) {
    std::lock_guard lock(m_);
    refuse_refunds_ = refuse;
}
std::vector<StripeStub::Seen> StripeStub::seen() {
    std::lock_guard lock(m_);
    return seen_;
}
std::vector<StripeStub::Charge> StripeStub::charges() {
    std::lock_guard lock(m_);
    return charges_;
}
int StripeStub::refunds() {
    std::lock_guard lock(m_);
    return refunds_;
}
bool StripeStub::wait_for_charge_requests(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, [&] { return charge_requests_ >= n; });
}

}  // namespace ticketd::test
