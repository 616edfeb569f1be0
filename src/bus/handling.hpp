#pragma once
// What every transport does with the events it hands a subscriber, so that a handler behaves the
// same whatever carried its events: a run of events applied in order in one transaction, each with
// its inbox row and the position after it; a failing event parked as a dead letter; and a dead
// letter re-queued by `ticketd dead-letters retry` tried once more.
#include <cstddef>
#include <span>
#include <string>

#include "bus/bus.hpp"

namespace ticketd::bus {

class EventLog;

struct Handled {
    std::size_t applied = 0;  // leading events committed, with their inbox rows and the position
    bool failed = false;      // events[applied] failed (asked for a retry or threw)
};

// Applies `events` (in log order) for `subscriber` on `db` in one transaction: each is recorded in
// the inbox first (a redelivery is skipped), then handled; the position moves to the last applied
// event in the same transaction. If event k fails, the transaction is rolled back and the events
// before k are applied again in a fresh one: handlers act only through their transaction and
// on_commit callbacks, so the discarded try leaves nothing behind. `first_attempts` is how often
// events[0] has failed before; `last_error` gets the failure.
Handled apply_in_order(db::Database& db, const std::string& subscriber,
                       std::span<const RawEvent> events, int first_attempts,
                       const RetryPolicy& retry, const RawHandler& handler,
                       std::string& last_error);

// Parks `event` as a dead letter (on disk when this returns) and then moves the subscriber's
// position past it. A crash between the two parks it again on restart: the same row, parked anew.
void park(EventLog& log, db::Database& db, const std::string& subscriber, const RawEvent& event,
          const std::string& error, int attempts);

// Tries the oldest re-queued dead letter of `subscriber` once; true if there was one.
bool redeliver_requeued(EventLog& log, db::Database& db, const std::string& subscriber,
                        const RawHandler& handler);

}  // namespace ticketd::bus
