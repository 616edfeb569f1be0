#pragma once
// A payment provider for tests that holds every charge until the test opens the gate, and counts
// charges and refunds (refunds are answered at once, successfully).
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "payments/payment_provider.hpp"

namespace ticketd::test {

class GatedProvider final : public payments::PaymentProvider {
public:
    struct Gate {
        std::mutex m;
        std::condition_variable cv;
        bool open = false;
        int charges = 0, refunds = 0;
        bool charge_waiting = false;
    };
    explicit GatedProvider(std::shared_ptr<Gate> g) : gate_(std::move(g)) {}
    void charge(payments::ChargeRequest,
                std::function<void(payments::ProviderResult)> done) override {
        std::thread([gate = gate_, done = std::move(done)] {
            std::unique_lock lock(gate->m);
            gate->charge_waiting = true;
            gate->cv.notify_all();
            gate->cv.wait(lock, [&] { return gate->open; });
            ++gate->charges;
            lock.unlock();
            done({payments::ProviderResult::Kind::succeeded, "ch_gated", ""});
        }).detach();
    }
    void refund(payments::RefundRequest,
                std::function<void(payments::ProviderResult)> done) override {
        {
            std::lock_guard lock(gate_->m);
            ++gate_->refunds;
        }
        done({payments::ProviderResult::Kind::succeeded, "re_gated", ""});
    }

private:
    std::shared_ptr<Gate> gate_;
};

}  // namespace ticketd::test
