#pragma once
// A stand-in for api.stripe.com on 127.0.0.1 that behaves as Stripe does where ticketd relies on
// it: form-encoded charges and refunds, a Bearer key, and idempotency (a request repeated with
// the same Idempotency-Key and parameters gets the first answer again; other parameters get an
// idempotency_error). It keeps the books (every charge made, every refund), so a test can check
// that each charge is either an order's one payment or refunded. And it can misbehave: lose its
// answers after acting, answer late, refuse refunds for good, or die and come back.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ticketd::http {
class Router;
class Server;
}  // namespace ticketd::http

namespace ticketd::test {

class StripeStub {
public:
    struct Seen {
        std::string path, authorization, idempotency_key, content_type, body;
    };
    struct Charge {
        std::string id, idempotency_key, description;
        std::int64_t amount_cents = 0;
        bool refunded = false;
    };

    // Listens on `port` (0: any free one; a fixed one lets it come back where it was).
    explicit StripeStub(std::uint16_t port = 0);
    ~StripeStub();

    std::uint16_t port() const { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // Statuses to answer to the next requests instead of acting on them (402: a card decline,
    // 5xx: Stripe failed before doing anything); then it acts normally.
    void script(std::vector<int> statuses);
    // The next `n` answers are lost: it acts (charges, refunds) and answers 500 instead.
    void lose_answers(int n);
    // Every answer is sent this long after acting.
    void answer_after(std::chrono::milliseconds delay);
    // Refunds are refused for good (400 charge_already_refunded), and nothing is refunded.
    void refuse_refunds(bool refuse);
    // Dies (nothing listens on its port) and comes back on the same port.
    void stop();
    void start();

    std::vector<Seen> seen();
    std::vector<Charge> charges();
    int refunds();
    // Blocks until `n` charge requests have arrived (acted on or not); false after `timeout`.
    bool wait_for_charge_requests(int n,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

private:
    struct Answer {
        int status = 200;
        std::string body;
    };
    Answer act(const Seen& request);
    Answer charge(const std::map<std::string, std::string>& form, const std::string& key);
    Answer refund(const std::map<std::string, std::string>& form);

    std::mutex m_;
    std::condition_variable cv_;
    std::vector<Seen> seen_;
    std::vector<int> script_;
    int lose_ = 0;
    std::chrono::milliseconds delay_{0};
    bool refuse_refunds_ = false;
    struct Stored {
        std::string path, body;
        Answer answer;
    };
    std::map<std::string, Stored> by_key_;
    std::vector<Charge> charges_;
    int refunds_ = 0;
    int charge_requests_ = 0;
    std::uint16_t port_ = 0;
    std::unique_ptr<http::Router> router_;
    std::unique_ptr<http::Server> server_;
    std::vector<std::thread> late_;  // answers sent late
};

}  // namespace ticketd::test
