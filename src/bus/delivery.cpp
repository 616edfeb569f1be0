#include "bus/delivery.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "bus/event_log.hpp"
#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
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

void Delivery::subscribe(std::string name, std::string subject, db::Database& db, RawHandler handler) {
    auto s = std::make_unique<Subscriber>();
    s->name = std::move(name);
    s->subject = std::move(subject);
    s->db = &db;
    s->handler = std::move(handler);
    auto carried = log_.register_subscriber(s->name, s->subject);  // kept in bus.db by older versions
    // A position past the log's end: a power cut took appends this subscriber had processed
    // (appends are not synced before delivery). The relay appends those events again from their
    // outboxes, numbered after the end, so the subscriber reads on from the end and its inbox
    // drops the ones it had; a new event can never take a number it believes it has seen.
    s->position = std::min(position::load(db, s->name, carried.value_or(0), util::unix_now_ms()), log_.head());
    std::lock_guard lock(activity_.mutex);
    for (auto& existing : subscribers_)
        if (existing->name == s->name) throw std::logic_error("durable subscriber name used twice: " + s->name);
    auto worker = std::find_if(workers_.begin(), workers_.end(), [&](auto& w) { return w->db == &db; });
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
        bool concerned = std::any_of(w->subscribers.begin(), w->subscribers.end(), [&](Subscriber* sub) {
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
            out.push_back({s->name, s->subject, s->db->name(), 0, 0});
            dbs.push_back(s->db);
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].position = position::read(*dbs[i], out[i].name);
        out[i].head = log_.head(out[i].subject);
    }
    return out;
}

bool Delivery::deliver_batch(Subscriber& s) {
    std::vector<RawEvent> batch = log_.read(s.subject, s.position, options_.delivery_batch);
    s.caught_up = batch.size() < static_cast<std::size_t>(options_.delivery_batch);
    if (batch.empty()) return false;

    // The whole batch runs in one transaction without a savepoint per event. If a handler asks
    // for a retry (or throws) at event k, the transaction is rolled back, events before k are run
    // again in a fresh one and committed, and k waits for its retry. Handlers act only through
    // their transaction and on_commit callbacks, so the discarded try leaves nothing behind.
    std::int64_t done_through = s.position;
    bool failed = false;
    std::size_t limit = batch.size();
    while (limit > 0) {
        db::WriteTx tx(*s.db);
        std::size_t i = 0;
        for (; i < limit; ++i) {
            const RawEvent& event = batch[i];
            // Record the event in the inbox first: one statement both detects a redelivery
            // (nothing inserted) and marks this one as processed when the batch commits.
            if (!inbox::record(tx, s.name, event.id, util::unix_now_ms()))
                continue;  // redelivered after a crash: applied
            Outcome outcome = Outcome::retry;
            // Only the first event of a batch can have failed before (the position stops at it).
            int attempt = i == 0 ? s.attempts + 1 : 1;
            Envelope envelope{.id = event.id,
                              .seq = event.seq,
                              .logged_at_ms = event.logged_at_ms,
                              .attempt = attempt,
                              .last_attempt = attempt >= options_.retry.max_attempts};
            try {
                outcome = s.handler(tx, event, envelope);
                if (outcome == Outcome::retry) s.last_error = "handler asked for a retry";
            } catch (const std::exception& e) {
                s.last_error = e.what();
            }
            if (outcome == Outcome::retry) break;
        }
        if (i == limit) {
            // The position moves in the transaction of the effects: they are on disk together or
            // not at all.
            position::save(tx, s.name, batch[limit - 1].seq, util::unix_now_ms());
            tx.commit();
            done_through = batch[limit - 1].seq;
            break;
        }
        failed = true;  // ~WriteTx rolls this try back; run what came before event i again
        s.caught_up = false;
        limit = i;
    }
    if (done_through != s.position) s.attempts = 0;

    const RawEvent* parked = nullptr;
    if (failed) {
        const RawEvent& failing =
            *std::find_if(batch.begin(), batch.end(), [&](auto& e) { return e.seq > done_through; });
        ++s.attempts;
        if (s.attempts >= options_.retry.max_attempts) {
            parked = &failing;
        } else {
            s.not_before = Clock::now() + options_.retry.backoff(s.attempts);
            log::debug("event retry scheduled", {{"subscriber", s.name},
                                                 {"seq", std::to_string(failing.seq)},
                                                 {"attempt", std::to_string(s.attempts)}});
        }
    }

    if (parked) {
        // The dead letter first (on disk when park() returns), then the position past it. A
        // crash between the two parks the event again on restart: the same row, parked anew
        // (also when it had been re-queued and marked redelivered, then lost by a power cut).
        log_.park(s.name, *parked, s.last_error, s.attempts);
        {
            db::WriteTx tx(*s.db);
            position::save(tx, s.name, parked->seq, util::unix_now_ms());
            tx.commit();
        }
        done_through = parked->seq;
        metrics::record_dead_letter(s.name);
        log::error("event dead-lettered", {{"subscriber", s.name},
                                           {"seq", std::to_string(parked->seq)},
                                           {"subject", parked->subject},
                                           {"event_id", parked->id},
                                           {"attempts", std::to_string(s.attempts)},
                                           {"error", s.last_error}});
        s.attempts = 0;
        s.not_before = {};
    }
    s.position = done_through;
    return true;
}

bool Delivery::deliver_requeued(Subscriber& s) {
    auto letter = log_.next_requeued(s.name);
    if (!letter) return false;
    RawEvent event{.seq = letter->seq,
                   .id = letter->event_id,
                   .subject = letter->subject,
                   .payload = letter->payload,
                   .logged_at_ms = letter->parked_at_ms,
                   .source = ""};
    bool ok = false;
    std::string error;
    {
        db::WriteTx tx(*s.db);
        if (inbox::contains(tx, s.name, event.id)) {
            ok = true;
        } else {
            try {
                // Re-queued by a person: this one try is also its last.
                Envelope envelope{.id = event.id,
                                  .seq = event.seq,
                                  .logged_at_ms = event.logged_at_ms,
                                  .attempt = 1,
                                  .last_attempt = true};
                ok = s.handler(tx, event, envelope) == Outcome::ack;
                if (!ok) error = "handler asked for a retry";
            } catch (const std::exception& e) {
                error = e.what();
            }
            if (ok) {
                inbox::record(tx, s.name, event.id, util::unix_now_ms());
                tx.commit();
            }
        }
    }
    if (ok) {
        // The effects are on disk before the dead letter is marked redelivered: a power cut in
        // between leaves it re-queued, to be tried again, never marked done with its effects lost.
        s.db->sync();
        log_.mark_redelivered(letter->id);
        log::info("dead letter redelivered", {{"subscriber", s.name}, {"id", std::to_string(letter->id)}});
    } else {
        log_.park_again(letter->id, error);
        log::error("dead letter failed again",
                   {{"subscriber", s.name}, {"id", std::to_string(letter->id)}, {"error", error}});
    }
    return true;
}

std::size_t Delivery::prune_inbox(Subscriber& s) {
    // Event ids begin with their creation time in milliseconds as 12 hex digits, so one range of
    // the inbox's key holds every older event. (Ids from before time-ordered ids sort anywhere;
    // those events are long behind every cursor, so dropping their rows is as safe.)
    char before[17];
    std::snprintf(before, sizeof before, "%012llx",
                  static_cast<unsigned long long>(
                      std::max<std::int64_t>(0, util::unix_now_ms() - options_.inbox_retention.count())));
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
                    log::error("redelivering a dead letter failed", {{"subscriber", s->name}, {"error", e.what()}});
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
                        log::debug("inbox pruned", {{"subscriber", s->name}, {"rows", std::to_string(n)}});
                } catch (const std::exception& e) {
                    log::error("pruning the inbox failed", {{"subscriber", s->name}, {"error", e.what()}});
                }
            }
        }
        if (!progressed) earliest = std::min(earliest, next_prune);

        lock.lock();
        worker.busy = false;
        worker.waiting_retry = waiting;
        if (progressed) continue;  // more may be waiting beyond this batch
        activity_.settled_locked();
        worker.wake.wait_until(lock, earliest,
                               [&] { return stopping_ || worker.seen_generation != worker.generation; });
    }
}

}  // namespace ticketd::bus
