#pragma once
// The event bus as modules see it, and the seam between them and a transport.
//
// What every transport shares, so that a module is the same whatever carries its events:
//   * the outbox, the inbox and each subscriber's position, tables in the module's own
//     database (bus/outbox.hpp): publishing is atomic with the change it announces, processing
//     is effectively-once, and the position is kept with the effects;
//   * the handler contract below (Outcome, Envelope, RawHandler): one event at a time per
//     subscriber, in its transaction, in log order;
//   * the dead-letter policy (RetryPolicy): how often a failing event is tried, and when it is
//     parked for a person (`ticketd dead-letters`).
// What a transport provides is the virtual part of Bus: moving outbox rows somewhere durable
// (attach_outbox, outbox_committed), feeding subscribers from there (subscribe_raw), and
// start, stop, wait_idle and subscribers(). LocalBus (bus.db, in this process) is one;
// a NATS JetStream transport is another.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ticketd/events/contract.hpp"

namespace ticketd::db {
class Database;
class WriteTx;
}  // namespace ticketd::db

namespace ticketd::bus {

// What a handler answers. ack: applied (or a duplicate to ignore); retry: cannot apply yet, ask
// again later. Throwing counts as a failed try, like retry.
enum class Outcome { ack, retry };

// An event as stored in the log.
struct RawEvent {
    std::int64_t seq = 0;
    std::string id;
    std::string subject;
    std::string payload;  // JSON
    std::int64_t logged_at_ms = 0;
    std::string source;  // the publishing module's database
};

// What a handler may know about the delivery besides the event: which event, when it was logged,
// and which try this is. On the last try, `retry` parks the event as a dead letter.
struct Envelope {
    std::string_view id;
    std::int64_t seq = 0;
    std::int64_t logged_at_ms = 0;
    int attempt = 1;
    bool last_attempt = false;
};

using RawHandler = std::function<Outcome(db::WriteTx&, const RawEvent&, const Envelope&)>;

// How a transport treats an event whose handler fails (asks for a retry, or throws): tried
// again after first_backoff, doubling up to max_backoff, and parked as a dead letter after
// max_attempts tries, so that the events behind it flow again.
struct RetryPolicy {
    int max_attempts = 10;
    std::chrono::milliseconds first_backoff{20};
    std::chrono::milliseconds max_backoff{5000};
    // The wait after the `failures`-th failed try.
    std::chrono::milliseconds backoff(int failures) const {
        std::chrono::milliseconds wait = first_backoff * (1 << std::min(failures - 1, 16));
        return wait < max_backoff ? wait : max_backoff;
    }
};

// A parked event, as `ticketd dead-letters` lists it.
struct DeadLetter {
    std::int64_t id = 0;
    std::string subscriber;
    std::int64_t seq = 0;
    std::string event_id;
    std::string subject;
    std::string payload;
    std::string error;
    int attempts = 0;
    std::int64_t parked_at_ms = 0;
};

// One durable subscriber's position, for metrics, readiness and tooling.
struct SubscriberStatus {
    std::string name;
    std::string subject;
    std::string database;
    std::int64_t position = 0;  // last processed sequence
    std::int64_t head = 0;      // last logged sequence of its subject
    std::int64_t lag = 0;       // events of its subject logged and not yet processed
};

class Bus {
public:
    virtual ~Bus() = default;

    // The relay drains the outbox of every attached database, including rows left by a crash.
    // The database must have the "outbox" schema set applied and outlive the bus.
    virtual void attach_outbox(db::Database& db) = 0;

    // Publishes `event` as part of `tx`: it is written to the outbox of tx's database and reaches
    // subscribers only if and after tx commits. Once any module has declared what it publishes
    // (publishes<E>()), publishing an event its database's module did not declare throws
    // std::logic_error: the catalog and graph never miss a flow.
    template <events::Contract E>
    void publish(db::WriteTx& tx, const E& event) {
        check_declared(tx, E::subject);
        publish_raw(tx, E::subject, events::encode(event));
    }

    // Subscribes `handler` under the durable `name` to every event of type E, in log order, one
    // at a time, on a bus thread. Each call runs inside a WriteTx on `db` (which must have the
    // "outbox" schema applied) together with the inbox insert that makes redelivery harmless.
    // A new name starts from the beginning of the log. Call before start(). `handler` takes
    // (WriteTx&, const E&) or, to know its delivery, (WriteTx&, const E&, const Envelope&).
    template <events::Contract E, class F>
    void subscribe(std::string name, db::Database& db, F handler) {
        subscribe_raw(
            std::move(name), std::string(E::subject), db,
            [h = std::move(handler)](db::WriteTx& tx, const RawEvent& raw,
                                     const Envelope& env) -> Outcome {
                E event = events::decode<E>(raw.payload);
                if constexpr (std::is_invocable_v<F&, db::WriteTx&, const E&, const Envelope&>)
                    return h(tx, event, env);
                else
                    return h(tx, event);
            });
    }

    // Declares that `module` (the name of its database) publishes events of type E, for the
    // event catalog and graph; publish() holds modules to it.
    template <events::Contract E>
    void publishes(std::string_view module) {
        declare(E::subject, module);
    }
    // (subject, module) pairs declared with publishes().
    const std::vector<std::pair<std::string, std::string>>& publishers() const {
        return publishers_;
    }

    virtual void start() = 0;
    // Stops the bus threads; undelivered events stay in the log and outboxes for next time.
    virtual void stop() = 0;
    virtual bool running() const = 0;

    // Blocks until every outbox is drained and every subscriber has processed (or parked) every
    // event of its subject, with no retry pending; false if `timeout` passed first.
    virtual bool wait_idle(std::chrono::milliseconds timeout = std::chrono::seconds(10)) = 0;

    virtual std::vector<SubscriberStatus> subscribers() const = 0;

protected:
    // Writes the outbox row in tx and wakes the relay when tx commits.
    void publish_raw(db::WriteTx& tx, std::string_view subject, std::string payload);
    virtual void outbox_committed(db::Database& db) = 0;
    virtual void subscribe_raw(std::string name, std::string subject, db::Database& db,
                               RawHandler handler) = 0;

private:
    void declare(std::string_view subject, std::string_view module);
    void check_declared(db::WriteTx& tx, std::string_view subject) const;
    std::vector<std::pair<std::string, std::string>> publishers_;
};

}  // namespace ticketd::bus
