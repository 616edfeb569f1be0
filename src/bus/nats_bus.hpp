#pragma once
// The NATS JetStream transport: the same outboxes, inboxes, positions and handler contract as
// LocalBus (bus.hpp), with a JetStream stream in place of bus.db's log, so that each module can
// run in a process of its own (`ticketd --modules orders --bus nats://...`).
//
//   * Publishing: a relay thread publishes each outbox row to the stream, with `Nats-Msg-Id` set to
//     the event id (JetStream drops a repeat within the duplicate window), and deletes the row only
//     after the server's ack. In `normal` durability the module's database is synced first, as
//     LocalBus does. Publishes are pipelined; after a failure the relay publishes one row at a
//     time until one is acked, so that a burst cannot straddle a leader election out of order.
//   * Subscribing: one durable pull consumer per subscriber name (acks: all, explicit). Events
//     run through bus/handling.hpp in the module's transaction with their inbox rows and the
//     position (the stream sequence); the ack goes after the commit, and after a sync in `normal`
//     durability. The position in the module's database is the truth: JetStream's consumer state
//     is a hint (2.9 writes it without fsync), and an event at or below the position is skipped.
//   * Failures: a handler's retry is waited out in this process (order is kept), and after
//     RetryPolicy::max_attempts the event is parked in the local bus.db's dead-letter table, as
//     in-process.
// nats.h stays in nats_bus.cpp.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.hpp"

namespace ticketd::bus {

struct NatsBusOptions {
    std::vector<std::string> servers;  // nats://host:port, one per cluster node
    std::string stream = "TICKETD";
    std::string subject_prefix =
        "ticketd";     // the stream holds <prefix>.>; another stream, another prefix
    int replicas = 0;  // 0: 3 when 3 or more servers are given, else 1
    // How long JetStream remembers an event id to drop a repeat. A relay repeats a row only when
    // it did not learn of the ack (a crash between ack and delete, a lost reply), and repeats it
    // within seconds of restarting; the subscribers' inboxes (an hour) cover the rest.
    std::chrono::minutes duplicate_window{10};
    RetryPolicy retry{};
    int publish_batch = 256;  // rows in flight at most
    int fetch_batch = 256;    // events fetched (and applied in one transaction) at most
};

class EventLog;

class NatsBus final : public Bus {
public:
    // `local` is this process's bus.db ("bus" schema): its dead-letter table and subscriber names.
    // Connecting happens in the background from start(): running() (and /readyz) is false until
    // the stream is reachable, and again whenever the connection is down.
    NatsBus(db::Database& local, NatsBusOptions options);
    ~NatsBus() override;

    void attach_outbox(db::Database& db) override;
    void start() override;
    void stop() override;
    bool running() const override;
    bool wait_idle(std::chrono::milliseconds timeout) override;
    std::vector<SubscriberStatus> subscribers() const override;

    // The NATS subject an event subject travels on ("ticket:created" -> "ticketd.ticket.created").
    static std::string nats_subject(std::string_view subject, std::string_view prefix = "ticketd");

    // `ticketd events tail` in split mode: calls `print` for each event of the stream after
    // sequence `after` (of `subject`, or every subject when empty), in order; with `follow`, keeps
    // waiting for new ones. Throws std::runtime_error when the stream cannot be read.
    static void tail(const NatsBusOptions& options, std::int64_t after, const std::string& subject,
                     bool follow, const std::function<void(const RawEvent&)>& print);

protected:
    void outbox_committed(db::Database& db) override;
    void subscribe_raw(std::string name, std::string subject, db::Database& db,
                       RawHandler handler) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ticketd::bus
