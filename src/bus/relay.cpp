#include "bus/relay.hpp"

#include <algorithm>
#include <utility>

#include "bus/event_log.hpp"
#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/thread_name.hpp"

namespace ticketd::bus {

Relay::Relay(EventLog& log, const LocalBusOptions& options, Activity& activity, Appended appended)
    : log_(log), options_(options), activity_(activity), appended_(std::move(appended)) {}

Relay::~Relay() { stop(); }

void Relay::attach(db::Database& db) {
    std::lock_guard lock(activity_.mutex);
    if (std::find(outboxes_.begin(), outboxes_.end(), &db) == outboxes_.end())
        outboxes_.push_back(&db);
    mark_pending_locked(db);
    wake_.notify_one();
}

void Relay::committed(db::Database& db) {
    std::lock_guard lock(activity_.mutex);
    mark_pending_locked(db);
    wake_.notify_one();
}

void Relay::mark_pending_locked(db::Database& db) {
    if (std::find(pending_.begin(), pending_.end(), &db) == pending_.end()) pending_.push_back(&db);
}

void Relay::start() {
    std::lock_guard lock(activity_.mutex);
    stopping_ = false;
    for (auto* db : outboxes_) mark_pending_locked(*db);  // rows a crash left behind
    thread_ = std::thread([this] { loop(); });
}

void Relay::stop() {
    {
        std::lock_guard lock(activity_.mutex);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool Relay::idle_locked() const { return pending_.empty() && !busy_ && !cleanup_pending_; }

// Step 1 appends an outbox's rows to the log, step 2 deletes them. A crash between the two
// leaves rows that are appended again as no-ops (the log's event ids are unique).
std::size_t Relay::relay(const std::vector<db::Database*>& dbs, bool flush) {
    struct Batch {
        db::Database* db;
        std::vector<OutboxRow> rows;
    };
    std::size_t moved = 0;
    for (;;) {
        std::vector<Batch> batches;
        for (auto* db : dbs) {
            auto rows = outbox::read(*db, state_[db].relayed_through, options_.relay_batch);
            if (!rows.empty()) batches.push_back({db, std::move(rows)});
        }
        if (batches.empty()) break;
        // An event leaves its database only once the change it announces is on disk: otherwise a
        // power cut could undo the change while the other modules keep acting on the event. The
        // databases are synced together (the first on this thread, the others on their own).
        std::vector<db::Database*> publishers;
        for (auto& b : batches) publishers.push_back(b.db);
        db::sync_all(publishers);
        // Every database's rows in one transaction. Subscribers read it at once: the log need
        // not be on disk yet (see Delivery::subscribe()).
        std::vector<EventLog::Source> sources;
        for (auto& b : batches) sources.push_back({b.db->name(), b.rows});
        log_.append(sources);
        std::vector<std::string> subjects;  // distinct, usually one to three
        for (auto& b : batches) {
            state_[b.db].relayed_through = b.rows.back().id;
            moved += b.rows.size();
            for (const auto& r : b.rows) {
                metrics::record_published(r.subject, 1);
                if (std::find(subjects.begin(), subjects.end(), r.subject) == subjects.end())
                    subjects.push_back(r.subject);
            }
        }
        if (appended_) appended_(subjects);
    }
    // Step 2: forget what the log now holds. Deleting is the module database's write lock, which
    // its requests wait for, so under load it happens every outbox_cleanup_delay rather than
    // after every append; rows not yet deleted are skipped by id meanwhile. A row goes only once
    // its event is on disk in the log, which is synced before the first delete.
    auto now = Clock::now();
    bool log_synced = false;
    for (auto* db : dbs) {
        OutboxState& state = state_[db];
        if (!delete_due(state, flush, now)) continue;
        if (!std::exchange(log_synced, true)) log_.sync();
        outbox::remove_through(*db, state.relayed_through);
        state.deleted_through = state.relayed_through;
        state.last_delete = now;
    }
    return moved;
}

std::size_t Relay::relay_once() {
    std::vector<db::Database*> dbs;
    {
        std::lock_guard lock(activity_.mutex);
        dbs = outboxes_;
    }
    return relay(dbs, true);
}

bool Relay::delete_due(const OutboxState& state, bool flush, Clock::time_point now) const {
    return state.deleted_through < state.relayed_through &&
           (flush || now - state.last_delete >= options_.outbox_cleanup_delay);
}

void Relay::loop() {
    util::name_this_thread("bus-relay", util::ThreadKind::background);
    std::unique_lock lock(activity_.mutex);
    auto last_pass = Clock::time_point{};
    for (;;) {
        auto work = [this] { return stopping_ || !pending_.empty(); };
        // Relayed rows wait to be deleted: once no commit has come for a moment, delete them.
        bool quiet = false;
        if (cleanup_pending_)
            quiet = !wake_.wait_for(lock, options_.outbox_cleanup_delay, work);
        else
            wake_.wait(lock, work);
        if (stopping_) return;
        if (!quiet && Clock::now() < last_pass + options_.relay_gather) {
            // Commits keep coming: gather them for a moment, so that one pass's syncs serve many.
            wake_.wait_until(lock, last_pass + options_.relay_gather, [this] { return stopping_; });
            if (stopping_) return;
        }
        last_pass = Clock::now();
        // Only the databases that committed to their outbox are read, and those whose relayed
        // rows are due for deletion; once quiet, every one with rows to delete.
        auto dbs = std::exchange(pending_, {});
        auto all = outboxes_;
        busy_ = true;
        lock.unlock();
        auto now = Clock::now();
        for (auto* db : all)
            if (delete_due(state_[db], quiet, now) &&
                std::find(dbs.begin(), dbs.end(), db) == dbs.end())
                dbs.push_back(db);
        bool failed = false, cleanup_pending = false;
        try {
            relay(dbs, quiet);
        } catch (const std::exception& e) {
            failed = true;
            log::error("relay failed", {{"error", e.what()}});
        }
        for (auto* db : all) {
            const auto& state = state_[db];
            if (state.deleted_through < state.relayed_through) cleanup_pending = true;
        }
        lock.lock();
        busy_ = false;
        cleanup_pending_ = cleanup_pending;
        if (failed) {
            // Rows stay in the outbox; try again shortly rather than spinning.
            wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
            for (auto* db : outboxes_) mark_pending_locked(*db);
        }
        activity_.settled_locked();
    }
}

}  // namespace ticketd::bus
