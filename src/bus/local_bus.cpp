#include "bus/local_bus.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "db/database.hpp"
#include "db/query.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/thread_name.hpp"
#include "util/time_format.hpp"

namespace ticketd::bus {
namespace {

std::int64_t now_ms() { return util::to_unix_ms(util::SystemClock{}.now()); }

}  // namespace

struct LocalBus::Subscriber {
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
struct LocalBus::Worker {
    db::Database* db = nullptr;
    std::vector<Subscriber*> subscribers;  // guarded by LocalBus::mutex_
    std::thread thread;
    // Bumped (under LocalBus::mutex_) when there may be work for it: an append of a subject one
    // of its subscribers follows, a new subscriber, the start. Only then is it woken.
    std::uint64_t generation = 1;
    std::uint64_t seen_generation = 0;     // `generation` when it last started a pass
    std::condition_variable wake;
    void poke() {
        ++generation;
        wake.notify_one();
    }
    bool busy = false;
    bool waiting_retry = false;            // a subscriber waits out a backoff
};

LocalBus::LocalBus(db::Database& log, LocalBusOptions options) : log_(log), options_(options) {}

LocalBus::~LocalBus() { stop(); }

void LocalBus::attach_outbox(db::Database& db) {
    std::lock_guard lock(mutex_);
    if (std::find(outboxes_.begin(), outboxes_.end(), &db) == outboxes_.end())
        outboxes_.push_back(&db);
    mark_pending_locked(db);
    relay_cv_.notify_one();
}

void LocalBus::subscribe_raw(std::string name, std::string subject, db::Database& db,
                             RawHandler handler) {
    auto s = std::make_unique<Subscriber>();
    s->name = std::move(name);
    s->subject = std::move(subject);
    s->db = &db;
    s->handler = std::move(handler);
    std::optional<std::int64_t> carried;  // a position kept in bus.db by an older version
    {
        db::WriteTx tx(log_);
        auto& q = db::query(tx, "SELECT position, subject FROM cursors WHERE subscriber = ?", s->name);
        if (q.executeStep()) {
            carried = q.getColumn(0).getInt64();
            if (q.getColumn(1).getString() != s->subject)
                throw std::logic_error("durable subscriber " + s->name + " was registered for " +
                                       q.getColumn(1).getString() + ", not " + s->subject);
        } else {
            db::exec(tx, "INSERT INTO cursors (subscriber, subject, position, updated_at) VALUES (?, ?, 0, ?)",
                     s->name, s->subject, now_ms());
        }
        tx.commit();
    }
    {
        db::WriteTx tx(db);
        auto& q = db::query(tx, "SELECT position FROM bus_positions WHERE subscriber = ?", s->name);
        if (q.executeStep()) {
            s->position = q.getColumn(0).getInt64();
        } else {
            s->position = carried.value_or(0);
            db::exec(tx, "INSERT INTO bus_positions (subscriber, position, updated_at) VALUES (?, ?, ?)", s->name,
                     s->position, now_ms());
        }
        tx.commit();
    }
    std::lock_guard lock(mutex_);
    for (auto& existing : subscribers_)
        if (existing->name == s->name)
            throw std::logic_error("durable subscriber name used twice: " + s->name);
    auto worker = std::find_if(workers_.begin(), workers_.end(), [&](auto& w) { return w->db == &db; });
    if (worker == workers_.end()) {
        workers_.push_back(std::make_unique<Worker>());
        worker = std::prev(workers_.end());
        (*worker)->db = &db;
        if (started_ && !stopping_) {
            Worker& w = **worker;
            w.thread = std::thread([this, &w] { delivery_loop(w); });
        }
    }
    (*worker)->subscribers.push_back(s.get());
    subscribers_.push_back(std::move(s));
    (*worker)->poke();
}

void LocalBus::start() {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
    stopping_ = false;
    // A power cut may have taken the log's last appends, which subscribers had already read:
    // their events are appended again from the outboxes, after every position, so that no
    // subscriber mistakes a new event for one it has processed.
    for (auto& s : subscribers_) seq_floor_ = std::max(seq_floor_, s->position);
    for (auto* db : outboxes_) mark_pending_locked(*db);
    for (auto& w : workers_) ++w->generation;
    relay_thread_ = std::thread([this] { relay_loop(); });
    for (auto& w : workers_) {
        Worker& worker = *w;
        worker.thread = std::thread([this, &worker] { delivery_loop(worker); });
    }
}

void LocalBus::stop() {
    std::vector<Worker*> workers;
    {
        std::lock_guard lock(mutex_);
        if (!started_) return;
        stopping_ = true;
        for (auto& w : workers_) workers.push_back(w.get());
    }
    relay_cv_.notify_all();
    {
        std::lock_guard lock(mutex_);
        for (auto* w : workers) w->wake.notify_one();
    }
    if (relay_thread_.joinable()) relay_thread_.join();
    for (auto* w : workers)
        if (w->thread.joinable()) w->thread.join();
    std::lock_guard lock(mutex_);
    started_ = false;
    idle_cv_.notify_all();
}

bool LocalBus::running() const {
    std::lock_guard lock(mutex_);
    return started_ && !stopping_;
}

void LocalBus::outbox_committed(db::Database& db) {
    std::lock_guard lock(mutex_);
    mark_pending_locked(db);
    relay_cv_.notify_one();
}

void LocalBus::mark_pending_locked(db::Database& db) {
    if (std::find(pending_outboxes_.begin(), pending_outboxes_.end(), &db) == pending_outboxes_.end())
        pending_outboxes_.push_back(&db);
}

bool LocalBus::idle_locked() const {
    if (!pending_outboxes_.empty() || relay_busy_ || relay_cleanup_pending_) return false;
    for (auto& w : workers_)
        if (w->busy || w->waiting_retry || w->seen_generation != w->generation) return false;
    return true;
}

bool LocalBus::wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_cv_.wait_for(lock, timeout, [this] { return !started_ || idle_locked(); }) &&
           started_;
}

std::vector<SubscriberStatus> LocalBus::subscribers() const {
    std::vector<SubscriberStatus> out;
    std::vector<db::Database*> dbs;
    {
        std::lock_guard lock(mutex_);
        for (auto& s : subscribers_) {
            out.push_back({s->name, s->subject, s->db->name(), 0, 0});
            dbs.push_back(s->db);
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        db::ReadLock read(*dbs[i]);
        auto& c = db::query(read, "SELECT position FROM bus_positions WHERE subscriber = ?", out[i].name);
        if (c.executeStep()) out[i].position = c.getColumn(0).getInt64();
    }
    db::ReadLock read(log_);
    for (auto& st : out) {
        auto& h = db::query(read, "SELECT coalesce(max(seq), 0) FROM events INDEXED BY events_by_subject WHERE subject = ?",
                            st.subject);
        if (h.executeStep()) st.head = h.getColumn(0).getInt64();
    }
    return out;
}

// ---- relay ------------------------------------------------------------------------------------

std::size_t LocalBus::relay(const std::vector<db::Database*>& dbs, bool flush) {
    struct Row {
        std::int64_t id;
        std::string event_id, subject, payload;
        std::int64_t created_at;
    };
    struct Batch {
        db::Database* db;
        std::vector<Row> rows;
    };
    std::size_t moved = 0;
    for (;;) {
        std::vector<Batch> batches;
        for (auto* db : dbs) {
            Batch b{db, {}};
            db::ReadLock read(*db);
            auto& q = db::query(read,
                                "SELECT id, event_id, subject, payload, created_at FROM outbox WHERE id > ?"
                                " ORDER BY id LIMIT ?",
                                outbox_state_[db].relayed_through, options_.relay_batch);
            while (q.executeStep())
                b.rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                                  q.getColumn(3).getString(), q.getColumn(4).getInt64()});
            if (!b.rows.empty()) batches.push_back(std::move(b));
        }
        if (batches.empty()) break;
        // An event leaves its database only once the change it announces is on disk: otherwise a
        // power cut could undo the change while the other modules keep acting on the event. The
        // databases are synced together, each by its own sync thread.
        std::vector<db::Database*> publishers;
        for (auto& b : batches) publishers.push_back(b.db);
        db::sync_all(publishers);
        // Step 1: append to the log, every database's rows in one transaction. The unique event
        // id makes a second append after a crash between step 1 and step 2 a no-op. Subscribers
        // read it at once: the log need not be on disk yet (see seq_floor_).
        {
            db::WriteTx tx(log_);
            std::int64_t logged_at = now_ms();
            for (const auto& b : batches)
                for (const auto& r : b.rows)
                    db::exec(tx,
                             "INSERT INTO events (seq, event_id, subject, payload, source, created_at, logged_at)"
                             " VALUES (max(?, (SELECT coalesce(max(seq), 0) FROM events) + 1), ?, ?, ?, ?, ?, ?)"
                             " ON CONFLICT (event_id) DO NOTHING",
                             seq_floor_ + 1, r.event_id, r.subject, r.payload, b.db->name(), r.created_at,
                             logged_at);
            tx.commit();
        }
        std::vector<const std::string*> subjects;  // distinct, usually one to three
        for (auto& b : batches) {
            outbox_state_[b.db].relayed_through = b.rows.back().id;
            moved += b.rows.size();
            for (const auto& r : b.rows) {
                metrics::record_published(r.subject, 1);
                if (std::none_of(subjects.begin(), subjects.end(), [&](auto* s) { return *s == r.subject; }))
                    subjects.push_back(&r.subject);
            }
        }
        // Wakes only the delivery threads with a subscriber to one of the appended subjects.
        std::lock_guard lock(mutex_);
        for (auto& b : batches)
            for (const auto& r : b.rows) ++appends_[r.subject];
        for (auto& w : workers_) {
            bool concerned = std::any_of(w->subscribers.begin(), w->subscribers.end(), [&](Subscriber* sub) {
                return std::any_of(subjects.begin(), subjects.end(), [&](auto* s) { return *s == sub->subject; });
            });
            if (concerned) w->poke();
        }
    }
    // Step 2: forget what the log now holds. Deleting is the module database's write lock, which
    // its requests wait for, so under load it happens every outbox_cleanup_delay rather than
    // after every append; rows not yet deleted are skipped by id and, after a crash, appended
    // again as no-ops.
    // A row goes only once its event is on disk in the log, which this syncs before the first.
    auto now = Clock::now();
    bool log_synced = false;
    for (auto* db : dbs) {
        OutboxState& state = outbox_state_[db];
        if (!delete_due(state, flush, now)) continue;
        if (!std::exchange(log_synced, true)) log_.sync();
        db::WriteTx tx(*db);
        db::exec(tx, "DELETE FROM outbox WHERE id <= ?", state.relayed_through);
        tx.commit();
        state.deleted_through = state.relayed_through;
        state.last_delete = now;
    }
    return moved;
}

std::size_t LocalBus::relay_once() {
    std::vector<db::Database*> dbs;
    {
        std::lock_guard lock(mutex_);
        dbs = outboxes_;
    }
    return relay(dbs, true);
}

bool LocalBus::delete_due(const OutboxState& state, bool flush, Clock::time_point now) const {
    return state.deleted_through < state.relayed_through &&
           (flush || now - state.last_delete >= options_.outbox_cleanup_delay);
}

void LocalBus::relay_loop() {
    util::name_this_thread("bus-relay", util::ThreadKind::background);
    std::unique_lock lock(mutex_);
    auto last_pass = Clock::time_point{};
    for (;;) {
        auto work = [this] { return stopping_ || !pending_outboxes_.empty(); };
        // Relayed rows wait to be deleted: once no commit has come for a moment, delete them.
        bool quiet = false;
        if (relay_cleanup_pending_)
            quiet = !relay_cv_.wait_for(lock, options_.outbox_cleanup_delay, work);
        else
            relay_cv_.wait(lock, work);
        if (stopping_) return;
        if (!quiet && Clock::now() < last_pass + options_.relay_gather) {
            // Commits keep coming: gather them for a moment, so that one pass's syncs serve many.
            relay_cv_.wait_until(lock, last_pass + options_.relay_gather, [this] { return stopping_; });
            if (stopping_) return;
        }
        last_pass = Clock::now();
        // Only the databases that committed to their outbox are read, and those whose relayed
        // rows are due for deletion; once quiet, every one with rows to delete.
        auto dbs = std::exchange(pending_outboxes_, {});
        auto all = outboxes_;
        relay_busy_ = true;
        lock.unlock();
        auto now = Clock::now();
        for (auto* db : all)
            if (delete_due(outbox_state_[db], quiet, now) && std::find(dbs.begin(), dbs.end(), db) == dbs.end())
                dbs.push_back(db);
        bool failed = false, cleanup_pending = false;
        try {
            relay(dbs, quiet);
        } catch (const std::exception& e) {
            failed = true;
            log::error("relay failed", {{"error", e.what()}});
        }
        for (auto* db : all) {
            const auto& state = outbox_state_[db];
            if (state.deleted_through < state.relayed_through) cleanup_pending = true;
        }
        lock.lock();
        relay_busy_ = false;
        relay_cleanup_pending_ = cleanup_pending;
        if (failed) {
            // Rows stay in the outbox; try again shortly rather than spinning.
            relay_cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
            for (auto* db : outboxes_) mark_pending_locked(*db);
        }
        if (idle_locked()) idle_cv_.notify_all();
    }
}

// ---- delivery ---------------------------------------------------------------------------------

bool LocalBus::deliver_batch(Subscriber& s) {
    std::vector<RawEvent> batch;
    {
        db::ReadLock read(log_);
        // INDEXED BY: once ANALYZE has seen a log where one subject dominates, the planner
        // would rather walk the whole log by seq than seek a rare subject in the index, and a
        // subscriber of a quiet subject would then scan every event on every pass.
        auto& q = read.statement(
            "SELECT seq, event_id, subject, payload, logged_at FROM events INDEXED BY events_by_subject"
            " WHERE subject = ? AND seq > ?"
            " ORDER BY seq LIMIT ?");
        q.bind(1, s.subject);
        q.bind(2, static_cast<std::int64_t>(s.position));
        q.bind(3, options_.delivery_batch);
        while (q.executeStep())
            batch.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                             q.getColumn(2).getString(), q.getColumn(3).getString(), q.getColumn(4).getInt64()});
    }
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
            auto& ins = tx.statement(
                "INSERT INTO inbox (subscriber, event_id, processed_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING");
            ins.bind(1, s.name);
            ins.bind(2, event.id);
            ins.bind(3, now_ms());
            ins.exec();
            if (tx.connection().getChanges() == 0) continue;  // redelivered after a crash: applied
            Outcome outcome = Outcome::retry;
            // Only the first event of a batch can have failed before (the position stops at it).
            int attempt = i == 0 ? s.attempts + 1 : 1;
            Envelope envelope{event.id, event.seq, event.logged_at_ms, attempt, attempt >= options_.max_attempts};
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
            db::exec(tx, "UPDATE bus_positions SET position = ?, updated_at = ? WHERE subscriber = ?",
                     batch[limit - 1].seq, now_ms(), s.name);
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
        const RawEvent& failing = *std::find_if(batch.begin(), batch.end(),
                                                [&](auto& e) { return e.seq > done_through; });
        ++s.attempts;
        if (s.attempts >= options_.max_attempts) {
            parked = &failing;
        } else {
            auto backoff = options_.first_backoff * (1 << std::min(s.attempts - 1, 16));
            s.not_before = Clock::now() + std::min<std::chrono::milliseconds>(backoff, options_.max_backoff);
            log::debug("event retry scheduled", {{"subscriber", s.name}, {"seq", std::to_string(failing.seq)},
                                                  {"attempt", std::to_string(s.attempts)}});
        }
    }

    if (parked) {
        // The dead letter first (bus.db: on disk at commit), then the position past it. A crash
        // between the two parks the event again on restart: the same row, parked anew (also
        // when it had been re-queued and marked redelivered, then lost by a power cut).
        {
            db::WriteTx tx(log_);
            db::exec(tx,
                     "INSERT INTO dead_letters (subscriber, seq, event_id, subject, payload, error, attempts,"
                     " parked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscriber, seq) DO UPDATE SET"
                     " error = excluded.error, attempts = excluded.attempts, parked_at = excluded.parked_at,"
                     " requeued_at = NULL, redelivered_at = NULL",
                     s.name, parked->seq, parked->id, parked->subject, parked->payload, s.last_error,
                     s.attempts, now_ms());
            tx.commit();
        }
        log_.sync();
        {
            db::WriteTx tx(*s.db);
            db::exec(tx, "UPDATE bus_positions SET position = ?, updated_at = ? WHERE subscriber = ?",
                     parked->seq, now_ms(), s.name);
            tx.commit();
        }
        done_through = parked->seq;
        metrics::record_dead_letter(s.name);
        log::error("event dead-lettered",
                   {{"subscriber", s.name}, {"seq", std::to_string(parked->seq)}, {"subject", parked->subject},
                    {"event_id", parked->id}, {"attempts", std::to_string(s.attempts)}, {"error", s.last_error}});
        s.attempts = 0;
        s.not_before = {};
    }
    s.position = done_through;
    return true;
}

bool LocalBus::deliver_requeued(Subscriber& s) {
    std::int64_t id = 0;
    RawEvent event;
    {
        db::ReadLock read(log_);
        auto& q = read.statement(
            "SELECT id, seq, event_id, subject, payload, parked_at FROM dead_letters WHERE subscriber = ?"
            " AND requeued_at IS NOT NULL AND redelivered_at IS NULL ORDER BY id LIMIT 1");
        q.bind(1, s.name);
        if (!q.executeStep()) return false;
        id = q.getColumn(0).getInt64();
        event = {q.getColumn(1).getInt64(), q.getColumn(2).getString(), q.getColumn(3).getString(),
                 q.getColumn(4).getString(), q.getColumn(5).getInt64()};
    }
    bool ok = false;
    std::string error;
    {
        db::WriteTx tx(*s.db);
        auto& seen = tx.statement("SELECT 1 FROM inbox WHERE subscriber = ? AND event_id = ?");
        seen.bind(1, s.name);
        seen.bind(2, event.id);
        if (seen.executeStep()) {
            ok = true;
        } else {
            try {
                // Re-queued by a person: this one try is also its last.
                ok = s.handler(tx, event, Envelope{event.id, event.seq, event.logged_at_ms, 1, true}) == Outcome::ack;
                if (!ok) error = "handler asked for a retry";
            } catch (const std::exception& e) {
                error = e.what();
            }
            if (ok) {
                auto& ins = tx.statement("INSERT INTO inbox (subscriber, event_id, processed_at) VALUES (?, ?, ?)");
                ins.bind(1, s.name);
                ins.bind(2, event.id);
                ins.bind(3, now_ms());
                ins.exec();
                tx.commit();
            }
        }
    }
    // The effects are on disk before the dead letter is marked redelivered: a power cut in between
    // leaves it re-queued, to be tried again, never marked done with its effects lost.
    if (ok) s.db->sync();
    db::WriteTx tx(log_);
    if (ok) {
        auto& up = tx.statement("UPDATE dead_letters SET redelivered_at = ? WHERE id = ?");
        up.bind(1, now_ms());
        up.bind(2, id);
        up.exec();
        log::info("dead letter redelivered", {{"subscriber", s.name}, {"id", std::to_string(id)}});
    } else {
        // Parked again, with the new error.
        auto& up = tx.statement(
            "UPDATE dead_letters SET requeued_at = NULL, error = ?, attempts = attempts + 1 WHERE id = ?");
        up.bind(1, error);
        up.bind(2, id);
        up.exec();
        log::error("dead letter failed again", {{"subscriber", s.name}, {"id", std::to_string(id)}, {"error", error}});
    }
    tx.commit();
    return true;
}

std::size_t LocalBus::prune_inbox(Subscriber& s) {
    // Event ids begin with their creation time in milliseconds as 12 hex digits, so one range of
    // the inbox's key holds every older event. (Ids from before time-ordered ids sort anywhere;
    // those events are long behind every cursor, so dropping their rows is as safe.)
    char before[17];
    std::snprintf(before, sizeof before, "%012llx",
                  static_cast<unsigned long long>(std::max<std::int64_t>(0, now_ms() - options_.inbox_retention.count())));
    std::size_t removed = 0;
    for (;;) {
        db::WriteTx tx(*s.db);
        auto& del = tx.statement(
            "DELETE FROM inbox WHERE subscriber = ? AND event_id IN"
            " (SELECT event_id FROM inbox WHERE subscriber = ? AND event_id < ? LIMIT 1000)");
        del.bind(1, s.name);
        del.bind(2, s.name);
        del.bind(3, std::string(before));
        del.exec();
        auto n = static_cast<std::size_t>(tx.connection().getChanges());
        tx.commit();
        removed += n;
        if (n < 1000) return removed;
    }
}

bool requeue_dead_letter(db::Database& log, std::int64_t id) {
    db::WriteTx tx(log);
    auto& up = tx.statement(
        "UPDATE dead_letters SET requeued_at = ?, redelivered_at = NULL WHERE id = ? AND redelivered_at IS NULL");
    up.bind(1, now_ms());
    up.bind(2, id);
    up.exec();
    bool found = tx.connection().getChanges() > 0;
    tx.commit();
    return found;
}

void LocalBus::delivery_loop(Worker& worker) {
    util::name_this_thread("bus-" + worker.db->name(), util::ThreadKind::background);
    std::unique_lock lock(mutex_);
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
                s->not_before = Clock::now() + options_.max_backoff;
            }
            if (s->attempts > 0) {
                waiting = true;
                earliest = std::min(earliest, s->not_before);
            }
        }

        // Between batches every processed event is behind its committed cursor (unless moving
        // the cursor just failed: such a subscriber has attempts > 0 and waits), a safe moment
        // to forget old inbox rows.
        if (Clock::now() >= next_prune) {
            next_prune = Clock::now() + options_.prune_every;
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
        if (idle_locked()) idle_cv_.notify_all();
        worker.wake.wait_until(lock, earliest, [&] {
            return stopping_ || worker.seen_generation != worker.generation;
        });
    }
}

std::vector<DeadLetter> list_dead_letters(db::Database& log) {
    std::vector<DeadLetter> out;
    db::ReadLock read(log);
    auto& q = read.statement(
        "SELECT id, subscriber, seq, event_id, subject, payload, error, attempts, parked_at"
        " FROM dead_letters WHERE redelivered_at IS NULL ORDER BY id");
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                       q.getColumn(2).getInt64(), q.getColumn(3).getString(),
                       q.getColumn(4).getString(), q.getColumn(5).getString(),
                       q.getColumn(6).getString(), q.getColumn(7).getInt(),
                       q.getColumn(8).getInt64()});
    return out;
}

}  // namespace ticketd::bus
