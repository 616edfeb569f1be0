#pragma once
// The event bus as modules see it: publish through the outbox of their own database, subscribe
// under a durable name. Nothing here assumes the bus is in-process: LocalBus keeps the log in
// bus.db; a NATS JetStream transport would implement the same interface.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
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
};

class Bus {
public:
    virtual ~Bus() = default;

    // The relay drains the outbox of every attached database, including rows left by a crash.
    // The database must have the "outbox" schema set applied and outlive the bus.
    virtual void attach_outbox(db::Database& db) = 0;

    // Publishes `event` as part of `tx`: it is written to the outbox of tx's database and reaches
    // subscribers only if and after tx commits.
    template <events::Contract E>
    void publish(db::WriteTx& tx, const E& event) {
        publish_raw(tx, E::subject, boost::json::serialize(boost::json::value_from(event)));
    }

    // Subscribes `handler` under the durable `name` to every event of type E, in log order, one
    // at a time, on a bus thread. Each call runs inside a WriteTx on `db` (which must have the
    // "outbox" schema applied) together with the inbox insert that makes redelivery harmless.
    // A new name starts from the beginning of the log. Call before start(). `handler` takes
    // (WriteTx&, const E&) or, to know its delivery, (WriteTx&, const E&, const Envelope&).
    template <events::Contract E, class F>
    void subscribe(std::string name, db::Database& db, F handler) {
        subscribe_raw(std::move(name), std::string(E::subject), db,
                      [h = std::move(handler)](db::WriteTx& tx, const RawEvent& raw, const Envelope& env) -> Outcome {
                          E event = boost::json::value_to<E>(boost::json::parse(raw.payload));
                          if constexpr (std::is_invocable_v<F&, db::WriteTx&, const E&, const Envelope&>)
                              return h(tx, event, env);
                          else
                              return h(tx, event);
                      });
    }

    // Declares that `module` publishes events of type E (for the event catalog and graph).
    template <events::Contract E>
    void publishes(std::string module) {
        publishers_.emplace_back(std::string(E::subject), std::move(module));
    }
    // (subject, module) pairs declared with publishes().
    const std::vector<std::pair<std::string, std::string>>& publishers() const { return publishers_; }

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
    std::vector<std::pair<std::string, std::string>> publishers_;
};

}  // namespace ticketd::bus
