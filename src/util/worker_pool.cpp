#include "util/worker_pool.hpp"

#include "util/log.hpp"
#include "util/thread_name.hpp"

namespace ticketd::util {

WorkerPool::WorkerPool(int threads) {
    for (int i = 0; i < std::max(1, threads); ++i)
        threads_.emplace_back([this, i] {
            name_this_thread("worker-" + std::to_string(i), ThreadKind::background);
            for (;;) {
                std::function<void()> job;
                {
                    std::unique_lock lock(mutex_);
                    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
                    if (jobs_.empty()) return;
                    job = std::move(jobs_.front());
                    jobs_.pop_front();
                }
                try {
                    job();
                } catch (const std::exception& e) {
                    log::error("worker job failed", {{"error", e.what()}});
                }
            }
        });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void WorkerPool::post(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
}

bool WorkerPool::try_post(std::function<void()> job, std::size_t max_queued) {
    {
        std::lock_guard lock(mutex_);
        if (jobs_.size() >= max_queued) return false;
        jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
}

}  // namespace ticketd::util
