#include "bus/handling.hpp"

#include "bus/event_log.hpp"
#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/time_format.hpp"

namespace ticketd::bus {

Handled apply_in_order(db::Database& db, const std::string& subscriber,
                       std::span<const RawEvent> events, int first_attempts,
                       const RetryPolicy& retry, const RawHandler& handler,
                       std::string& last_error) {
    Handled result;
    std::size_t limit = events.size();
    while (limit > 0) {
        db::WriteTx tx(db);
        std::size_t i = 0;
        for (; i < limit; ++i) {
            const RawEvent& event = events[i];
            // Record the event in the inbox first: one statement both detects a redelivery
            // (nothing inserted) and marks this one as processed when the batch commits.
            if (!inbox::record(tx, subscriber, event.id, util::unix_now_ms()))
                continue;  // redelivered after a crash: applied
            Outcome outcome = Outcome::retry;
            // Only the first event of a run can have failed before (the position stops at it).
            int attempt = i == 0 ? first_attempts + 1 : 1;
            Envelope envelope{.id = event.id,
                              .seq = event.seq,
                              .logged_at_ms = event.logged_at_ms,
                              .attempt = attempt,
                              .last_attempt = attempt >= retry.max_attempts};
            try {
                outcome = handler(tx, event, envelope);
                if (outcome == Outcome::retry) last_error = "handler asked for a retry";
            } catch (const std::exception& e) {
                last_error = e.what();
            }
            if (outcome == Outcome::retry) break;
        }
        if (i == limit) {
            // The position moves in the transaction of the effects: they are on disk together or
            // not at all.
            position::save(tx, subscriber, events[limit - 1].seq, util::unix_now_ms());
            tx.commit();
            result.applied = limit;
            return result;
        }
        result.failed = true;  // ~WriteTx rolls this try back; run what came before event i again
        limit = i;
    }
    return result;
}

void park(EventLog& log, db::Database& db, const std::string& subscriber, const RawEvent& event,
          const std::string& error, int attempts) {
    // (Also when it had been re-queued and marked redelivered, then lost by a power cut.)
    log.park(subscriber, event, error, attempts);
    {
        db::WriteTx tx(db);
        position::save(tx, subscriber, event.seq, util::unix_now_ms());
        tx.commit();
    }
    metrics::record_dead_letter(subscriber);
    log::error("event dead-lettered", {{"subscriber", subscriber},
                                       {"seq", std::to_string(event.seq)},
                                       {"subject", event.subject},
                                       {"event_id", event.id},
                                       {"attempts", std::to_string(attempts)},
                                       {"error", error}});
}

bool redeliver_requeued(EventLog& log, db::Database& db, const std::string& subscriber,
                        const RawHandler& handler) {
    auto letter = log.next_requeued(subscriber);
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
        db::WriteTx tx(db);
        if (inbox::contains(tx, subscriber, event.id)) {
            ok = true;
        } else {
            try {
                // Re-queued by a person: this one try is also its last.
                Envelope envelope{.id = event.id,
                                  .seq = event.seq,
                                  .logged_at_ms = event.logged_at_ms,
                                  .attempt = 1,
                                  .last_attempt = true};
                ok = handler(tx, event, envelope) == Outcome::ack;
                if (!ok) error = "handler asked for a retry";
            } catch (const std::exception& e) {
                error = e.what();
            }
            if (ok) {
                inbox::record(tx, subscriber, event.id, util::unix_now_ms());
                tx.commit();
            }
        }
    }
    if (ok) {
        // The effects are on disk before the dead letter is marked redelivered: a power cut in
        // between leaves it re-queued, to be tried again, never marked done with its effects lost.
        db.sync();
        log.mark_redelivered(letter->id);
        log::info("dead letter redelivered",
                  {{"subscriber", subscriber}, {"id", std::to_string(letter->id)}});
    } else {
        log.park_again(letter->id, error);
        log::error(
            "dead letter failed again",
            {{"subscriber", subscriber}, {"id", std::to_string(letter->id)}, {"error", error}});
    }
    return true;
}

}  // namespace ticketd::bus
