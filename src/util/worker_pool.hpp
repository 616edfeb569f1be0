#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ticketd::util {

// A few threads for CPU-heavy work (password hashing) so it never runs on an HTTP thread.
// Jobs run in FIFO order; the destructor finishes queued jobs, then joins.
class WorkerPool {
public:
    explicit WorkerPool(int threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    void post(std::function<void()> job);
    // Queues `job` unless `max_queued` jobs are already waiting; false then (the caller sheds
    // the work rather than letting the queue, and every queued request's wait, grow).
    bool try_post(std::function<void()> job, std::size_t max_queued);
    int size() const { return static_cast<int>(threads_.size()); }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace ticketd::util
