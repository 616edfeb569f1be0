#include "bus/delivery.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "bus/event_log.hpp"
#include "bus/handling.hpp"
#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/thread_name.hpp"
#include "util/time_format.hpp"

namespace ticketd::bus {
struct Delivery::Subscriber {
    std::string name;
    std::string subject;
    db::Database* db = nullptr;
    RawHandler handler;
    std::int64_t position = 0;  // touched only by the delivery thread once started
    int attempts = 0;           // failed tries of the event after `position`
    Clock::time_point not_before{};
    std::string last_error;
    // Whether the last read of the log reached its end, and how many appends of this subject the
    // relay had made before that read: while both still hold, there is nothing to read.
    bool caught_up = false;
    std::uint64_t appends_seen = 0;
};

// The delivery thread of one subscribing database and what it last saw.
struct Delivery::Worker {
    db::Database* db = nullptr;
    std::vector<Subscriber*> subscribers;  // guarded by Activity::mutex
    std::thread thread;
    // Bumped (under Activity::mutex) when there may be work for it: an append of a subject one
    // of its subscribers follows, a new subscriber, the start. Only then is it woken.
    std::uint64_t generation = 1;
    std::uint64_t seen_generation = 0;  // `generation` when it last started a pass
    std::condition_variable wake;
    void poke() {
        ++generation;
        wake.notify_one();
    }
    bool busy = false;
    bool waiting_retry = false;  // a subscriber waits out a backoff
};

Delivery::Delivery(EventLog& log, const LocalBusOptions& options, Activity& activity)
    : log_(log), options_(options), activity_(activity) {}

Delivery::~Delivery() { stop(); }

void Delivery::subscribe(std::string name, std::string subject, db::Database& db,
                         RawHandler handler) {
    auto s = std::make_unique<Subscriber>();
    s->name = std::move(name);
    s->subject = std::move(subject);
    s->db = &db;
    s->handler = std::move(handler);
    auto carried =
        log_.register_subscriber(s->name, s->subject);  // kept in bus.db by older versions
    // A position past the log's end: a power cut took appends this subscriber had processed
    // (appends are not synced before delivery). The relay appends those events again from their
    // outboxes, numbered after the end, so the subscriber reads on from the end and its inbox
    // drops the ones it had; a new event can never take a number it believes it has seen.
    s->position = std::min(position::load(db, s->name, carried.value_or(0), util::unix_now_ms()),
                           log_.head());
    std::lock_guard lock(activity_.mutex);
    for (auto& existing : subscribers_)
        if (existing->name == s->name)
            throw std::logic_error("durable subscriber name used twice: " + s->name);
    auto worker =
        std::find_if(workers_.begin(), workers_.end(), [&](auto& w) { return w->db == &db; });
    if (worker == workers_.end()) {
        workers_.push_back(std::make_unique<Worker>());
        worker = std::prev(workers_.end());
        (*worker)->db = &db;
        if (started_ && !stopping_) {
            Worker& w = **worker;
            w.thread = std::thread([this, &w] { loop(w); });
        }
    }
    (*worker)->subscribers.push_back(s.get());
    subscribers_.push_back(std::move(s));
    (*worker)->poke();
}

void Delivery::start() {
    std::lock_guard lock(activity_.mutex);
    started_ = true;
    stopping_ = false;
    for (auto& w : workers_) {
        ++w->generation;
        Worker& worker = *w;
        worker.thread = std::thread([this, &worker] { loop(worker); });
    }
}

void Delivery::stop() {
    std::vector<Worker*> workers;
    {
        std::lock_guard lock(activity_.mutex);
        if (!started_) return;
        stopping_ = true;
        for (auto& w : workers_) {
            workers.push_back(w.get());
            w->wake.notify_one();
        }
    }
    for (auto* w : workers)
        if (w->thread.joinable()) w->thread.join();
    std::lock_guard lock(activity_.mutex);
    started_ = false;
}

void Delivery::appended(const std::vector<std::string>& subjects) {
    std::lock_guard lock(activity_.mutex);
    for (const auto& subject : subjects) ++appends_[subject];
    for (auto& w : workers_) {
        bool concerned =
            std::any_of(w->subscribers.begin(), w->subscribers.end(), [&](Subscriber* sub) {
                return std::find(subjects.begin(), subjects.end(), sub->subject) != subjects.end();
            });
        if (concerned) w->poke();
    }
}

bool Delivery::idle_locked() const {
    for (auto& w : workers_)
        if (w->busy || w->waiting_retry || w->seen_generation != w->generation) return false;
    return true;
}

std::vector<SubscriberStatus> Delivery::subscribers() const {
    std::vector<SubscriberStatus> out;
    std::vector<db::Database*> dbs;
    {
        std::lock_guard lock(activity_.mutex);
        for (auto& s : subscribers_) {
            out.push_back(SubscriberStatus{.name = s->name,
                                           .subject = s->subject,
                                           .database = s->db->name(),
                                           .position = 0,
                                           .head = 0});
            dbs.push_back(s->db);
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].position = position::read(*dbs[i], out[i].name);
        out[i].head = log_.head(out[i].subject);
        out[i].lag = log_.count_after(out[i].subject, out[i].position);
    }
    return out;
}

bool Delivery::deliver_batch(Subscriber& s) {
    std::vector<RawEvent> batch = log_.read(s.subject, s.position, options_.delivery_batch);
    s.caught_up = batch.size() < static_cast<std::size_t>(options_.delivery_batch);
    if (batch.empty()) return false;

    auto handled =
        apply_in_order(*s.db, s.name, batch, s.attempts, options_.retry, s.handler, s.last_error);
    if (handled.applied > 0) {
        s.position = batch[handled.applied - 1].seq;
        s.attempts = 0;
    }
    if (!handled.failed) return true;
    s.caught_up = false;
    const RawEvent& failing = batch[handled.applied];
    ++s.attempts;
    if (s.attempts >= options_.retry.max_attempts) {
        park(log_, *s.db, s.name, failing, s.last_error, s.attempts);
        s.position = failing.seq;
        s.attempts = 0;
        s.not_before = {};
    } else {
        s.not_before = Clock::now() + options_.retry.backoff(s.attempts);
        log::debug("event retry scheduled", {{"subscriber", s.name},
                                             {"seq", std::to_string(failing.seq)},
                                             {"attempt", std::to_string(s.attempts)}});
    }
    return true;
}

bool Delivery::deliver_requeued(Subscriber& s) {
    return redeliver_requeued(log_, *s.db, s.name, s.handler);
}

std::size_t Delivery::prune_inbox(Subscriber& s) {
    // Event ids begin with their creation time in milliseconds as 12 hex digits, so one range of
    // the inbox's key holds every older event. (Ids from before time-ordered ids sort anywhere;
    // those events are long behind every cursor, so dropping their rows is as safe.)
    char before[17];
    std::snprintf(before, sizeof before, "%012llx",
                  static_cast<unsigned long long>(std::max<std::int64_t>(
                      0, util::unix_now_ms() - options_.inbox_retention.count())));
    std::size_t removed = 0;
    for (;;) {
        auto n = inbox::prune(*s.db, s.name, before, 1000);
        removed += n;
        if (n < 1000) return removed;
    }
}

void Delivery::loop(Worker& worker) {
    util::name_this_thread("bus-" + worker.db->name(), util::ThreadKind::background);
    std::unique_lock lock(activity_.mutex);
    auto next_requeue_check = Clock::now();
    auto next_prune = Clock::now() + options_.prune_every;
    for (;;) {
        if (stopping_) return;
        worker.seen_generation = worker.generation;
        worker.busy = true;
        auto subs = worker.subscribers;
        std::vector<std::uint64_t> appends;  // per subscriber, the relay's count for its subject
        for (auto* s : subs) appends.push_back(appends_[s->subject]);
        lock.unlock();

        bool progressed = false;
        bool waiting = false;
        auto now = Clock::now();
        // Re-queued dead letters come from another process: look for them once a second.
        auto earliest = next_requeue_check;
        if (now >= next_requeue_check) {
            next_requeue_check = now + std::chrono::seconds(1);
            earliest = next_requeue_check;
            for (auto* s : subs) {
                try {
                    if (deliver_requeued(*s)) progressed = true;
                } catch (const std::exception& e) {
                    log::error("redelivering a dead letter failed",
                               {{"subscriber", s->name}, {"error", e.what()}});
                }
            }
        }
        for (std::size_t i = 0; i < subs.size(); ++i) {
            auto* s = subs[i];
            if (s->attempts > 0 && s->not_before > now) {
                waiting = true;
                earliest = std::min(earliest, s->not_before);
                continue;
            }
            // Nothing of its subject was appended since it last read to the end of the log.
            if (s->attempts == 0 && s->caught_up && s->appends_seen == appends[i]) continue;
            s->appends_seen = appends[i];
            try {
                if (deliver_batch(*s)) progressed = true;
            } catch (const std::exception& e) {
                // The database itself failed (disk full, I/O error): back off, keep the event.
                log::error("delivery failed", {{"subscriber", s->name}, {"error", e.what()}});
                ++s->attempts;
                s->not_before = Clock::now() + options_.retry.max_backoff;
            }
            if (s->attempts > 0) {
                waiting = true;
                earliest = std::min(earliest, s->not_before);
            }
        }

        // Between batches every processed event is behind its committed position (unless moving
        // it just failed: such a subscriber has attempts > 0 and waits), a safe moment to forget
        // old inbox rows.
        if (Clock::now() >= next_prune) {
            next_prune = Clock::now() + options_.prune_every;
            // Every event read so far keeps its number for good once the log is on disk: none
            // can come back renumbered (see subscribe()) after its inbox row is gone.
            log_.sync();
            for (auto* s : subs) {
                if (s->attempts > 0) continue;
                try {
                    if (auto n = prune_inbox(*s))
                        log::debug("inbox pruned",
                                   {{"subscriber", s->name}, {"rows", std::to_string(n)}});
                } catch (const std::exception& e) {
                    log::error("pruning the inbox failed",
                               {{"subscriber", s->name}, {"error", e.what()}});
                }
            }
        }
        if (!progressed) earliest = std::min(earliest, next_prune);

        lock.lock();
        worker.busy = false;
        worker.waiting_retry = waiting;
        if (progressed) continue;  // more may be waiting beyond this batch
        activity_.settled_locked();
        worker.wake.wait_until(lock, earliest, [&] {
            return stopping_ || worker.seen_generation != worker.generation;
        });
    }
}

}  // namespace ticketd::bus
