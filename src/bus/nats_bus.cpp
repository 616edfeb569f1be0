#include "bus/nats_bus.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <nats/nats.h>

#include "bus/event_log.hpp"
#include "bus/handling.hpp"
#include "bus/outbox.hpp"
#include "db/database.hpp"
#include "util/log.hpp"
#include "util/thread_name.hpp"
#include "util/time_format.hpp"

namespace ticketd::bus {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* source_header = "Ticketd-Source";
constexpr const char* subject_header = "Ticketd-Subject";
constexpr std::int64_t ns_per_ms = 1000000;

std::string status_text(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
    std::string text = natsStatus_GetText(s);
    if (code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
    return text;
}

// A durable consumer's name may not hold '.', '*', '>' or white space.
std::string consumer_name(const std::string& subscriber) {
    std::string out = subscriber;
    for (char& c : out)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) c = '_';
    return out;
}

std::string header(natsMsg* msg, const char* key) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || !value) return {};
    return value;
}

// An event as the relay published it: its id, subject and source travel in headers.
RawEvent to_event(natsMsg* msg, std::int64_t seq, std::int64_t logged_at_ms) {
    return RawEvent{.seq = seq,
                    .id = header(msg, "Nats-Msg-Id"),
                    .subject = header(msg, subject_header),
                    .payload = std::string(natsMsg_GetData(msg),
                                           static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
                    .logged_at_ms = logged_at_ms,
                    .source = header(msg, source_header)};
}

}  // namespace

std::string NatsBus::nats_subject(std::string_view subject, std::string_view prefix) {
    std::string out = std::string(prefix) + ".";
    for (char c : subject) out += c == ':' ? '.' : c;
    return out;
}

struct NatsBus::Impl {
    struct Subscriber {
        std::string name;
        std::string subject;
        std::string consumer;
        db::Database* db = nullptr;
        RawHandler handler;
        std::thread thread;
        natsSubscription* sub = nullptr;
        // The delivery thread's own:
        std::uint64_t last_delivery = 0;  // the consumer's number of the last delivery received
        std::optional<Clock::time_point> silent_since;  // fetches have had no answer since
        std::int64_t position = 0;
        int attempts = 0;
        Clock::time_point not_before{};
        std::string last_error;
        std::vector<natsMsg*> held;  // fetched, not yet applied, in stream order
        std::vector<RawEvent> events;
        // Read by wait_idle() and subscribers():
        std::atomic<bool> busy{false};
        std::atomic<bool> bound{false};  // its consumer exists and a subscription is bound to it
        std::atomic<std::int64_t> lag{0};
    };

    NatsBusOptions options;
    std::optional<EventLog> dead;  // none for the read-only tail()
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;  // the relay's publishes and every JetStream API call
    std::atomic<bool> stream_ready{false};

    std::mutex mutex;
    std::condition_variable wake;
    std::vector<db::Database*> outboxes;
    bool relay_due = true;
    bool started = false;
    bool stopping = false;
    std::thread relay_thread;
    std::vector<std::unique_ptr<Subscriber>> subs;
    std::vector<natsSubscription*>
        retired;  // unsubscribed by rebind(), destroyed after closing (mutex)

    // The batch in flight: event id -> index, and each row's result (0 pending, 1 ok, 2 failed).
    std::mutex acks_mutex;
    std::unordered_map<std::string, std::size_t> in_flight;
    std::vector<int> results;

    Impl(db::Database* local, NatsBusOptions o) : options(std::move(o)) {
        if (local) dead.emplace(*local);
        if (options.servers.empty()) throw std::invalid_argument("--bus nats: no server given");
        if (options.replicas == 0) options.replicas = options.servers.size() >= 3 ? 3 : 1;
    }

    bool sleep_unless_stopping(std::chrono::milliseconds d) {
        std::unique_lock lock(mutex);
        return !wake.wait_for(lock, d, [&] { return stopping; });
    }
    bool is_stopping() {
        std::lock_guard lock(mutex);
        return stopping;
    }

    void connect() {
        natsOptions* opts = nullptr;
        std::vector<const char*> urls;
        for (auto& s : options.servers) urls.push_back(s.c_str());
        natsStatus s = natsOptions_Create(&opts);
        if (s == NATS_OK)
            s = natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
        if (s == NATS_OK) s = natsOptions_SetName(opts, "ticketd");
        if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // forever
        if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
        if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
        if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 2000);
        // Start even while no server answers: the library keeps trying in the background.
        if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, true, nullptr, nullptr);
        if (s == NATS_OK) {
            s = natsConnection_Connect(&nc, opts);
            if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;
        }
        natsOptions_Destroy(opts);
        if (s != NATS_OK)
            throw std::runtime_error("cannot set up the NATS connection: " + status_text(s));
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = 5000;
        jo.PublishAsync.MaxPending = options.publish_batch;
        jo.PublishAsync.AckHandler = [](jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr*,
                                        void* closure) {
            auto* self = static_cast<Impl*>(closure);
            std::string id = header(msg, "Nats-Msg-Id");
            natsMsg_Destroy(msg);  // the handler owns it
            std::lock_guard lock(self->acks_mutex);
            auto it = self->in_flight.find(id);
            if (it != self->in_flight.end()) self->results[it->second] = ack ? 1 : 2;
        };
        jo.PublishAsync.AckHandlerClosure = this;
        s = natsConnection_JetStream(&js, nc, &jo);
        if (s != NATS_OK)
            throw std::runtime_error("cannot open a JetStream context: " + status_text(s));
    }

    bool connected() const { return nc && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED; }

    // Creates the stream if it does not exist; false (logged) if JetStream cannot be reached yet.
    bool ensure_stream() {
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        auto all = options.subject_prefix + ".>";
        const char* subjects[] = {all.c_str()};
        cfg.Name = options.stream.c_str();
        cfg.Description = "ticketd's events, one subject per event type";
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        cfg.Retention =
            js_LimitsPolicy;  // kept for good, as bus.db keeps them: a new subscriber replays all
        cfg.Replicas = options.replicas;
        cfg.Duplicates =
            std::chrono::duration_cast<std::chrono::nanoseconds>(options.duplicate_window).count();
        jsStreamInfo* si = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        natsStatus s = js_AddStream(&si, js, &cfg, nullptr, &code);
        if (si) jsStreamInfo_Destroy(si);
        if (s == NATS_OK || code == JSStreamNameExistErr) return true;
        log::warn("JetStream not ready yet",
                  {{"stream", options.stream}, {"error", status_text(s, code)}});
        return false;
    }

    // ---- publishing ----

    void relay_loop() {
        util::name_this_thread("nats-relay", util::ThreadKind::background);
        bool one_at_a_time = false;  // after a failure, until a publish is acked
        for (;;) {
            std::vector<db::Database*> dbs;
            {
                std::unique_lock lock(mutex);
                // Rows left by a crash, or whose publish failed, are looked at again every 100 ms.
                wake.wait_for(lock, std::chrono::milliseconds(100),
                              [&] { return stopping || relay_due; });
                if (stopping) return;
                relay_due = false;
                dbs = outboxes;
            }
            if (!stream_ready) {
                if (!ensure_stream()) {
                    sleep_unless_stopping(std::chrono::milliseconds(500));
                    continue;
                }
                stream_ready = true;
                log::info("JetStream stream ready", {{"stream", options.stream}});
            }
            bool more = false;
            for (auto* db : dbs) {
                try {
                    auto limit =
                        static_cast<std::size_t>(one_at_a_time ? 1 : options.publish_batch);
                    auto rows = outbox::read(*db, 0, static_cast<int>(limit));
                    if (rows.empty()) continue;
                    auto acked = publish(*db, rows);
                    if (acked > 0) outbox::remove_through(*db, rows[acked - 1].id);
                    one_at_a_time = acked < rows.size();
                    if (one_at_a_time) break;             // back off: the next pass is in 100 ms
                    more = more || rows.size() == limit;  // a full batch: there may be more at once
                } catch (const std::exception& e) {
                    log::error("relaying to NATS failed",
                               {{"db", db->name()}, {"error", e.what()}});
                    one_at_a_time = true;
                }
            }
            if (more) {
                std::lock_guard lock(mutex);
                relay_due = true;
            }
        }
    }

    // Publishes `rows` (pipelined) and returns how many leading rows the server acked.
    std::size_t publish(db::Database& db, const std::vector<OutboxRow>& rows) {
        // The change an event announces is on disk before anyone can act on it.
        db.sync();
        {
            std::lock_guard lock(acks_mutex);
            in_flight.clear();
            results.assign(rows.size(), 0);
            for (std::size_t i = 0; i < rows.size(); ++i) in_flight[rows[i].event_id] = i;
        }
        std::string first_error;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& row = rows[i];
            natsMsg* msg = nullptr;
            auto subject = nats_subject(row.subject, options.subject_prefix);
            natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, row.payload.data(),
                                          static_cast<int>(row.payload.size()));
            if (s == NATS_OK) s = natsMsgHeader_Set(msg, source_header, db.name().c_str());
            if (s == NATS_OK) s = natsMsgHeader_Set(msg, subject_header, row.subject.c_str());
            jsPubOptions po;
            jsPubOptions_Init(&po);
            po.MsgId = row.event_id.c_str();
            if (s == NATS_OK) s = js_PublishMsgAsync(js, &msg, &po);
            if (msg) natsMsg_Destroy(msg);  // still ours only if the library did not take it
            if (s != NATS_OK) {
                first_error = status_text(s);
                std::lock_guard lock(acks_mutex);
                for (std::size_t j = i; j < rows.size(); ++j) results[j] = 2;
                break;
            }
        }
        jsPubOptions wait;
        jsPubOptions_Init(&wait);
        wait.MaxWait = 5000;
        if (js_PublishAsyncComplete(js, &wait) != NATS_OK) {
            // No answer in time: take the rest back (a late ack is then ignored) and count them
            // failed.
            natsMsgList pending{};
            if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK)
                natsMsgList_Destroy(&pending);
        }
        std::lock_guard lock(acks_mutex);
        std::size_t acked = 0;
        while (acked < rows.size() && results[acked] == 1) ++acked;
        if (acked < rows.size()) {
            bool later_ok = std::any_of(results.begin() + static_cast<std::ptrdiff_t>(acked),
                                        results.end(), [](int r) { return r == 1; });
            log::warn("publishing to NATS failed; retrying one at a time",
                      {{"db", db.name()},
                       {"acked", std::to_string(acked)},
                       {"of", std::to_string(rows.size())},
                       {"error", first_error.empty() ? "no ack" : first_error}});
            if (later_ok)
                log::error("events published out of order (a stream leader changed mid-batch)",
                           {{"db", db.name()}, {"event_id", rows[acked].event_id}});
        }
        in_flight.clear();
        return acked;
    }

    // ---- subscribing ----

    // Finds or creates the subscriber's durable consumer and binds a pull subscription to it.
    bool bind(Subscriber& s) {
        jsStreamInfo* si = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        natsStatus st = js_GetStreamInfo(&si, js, options.stream.c_str(), nullptr, &code);
        if (st != NATS_OK) {
            log::warn("JetStream stream not reachable",
                      {{"subscriber", s.name}, {"error", status_text(st, code)}});
            return false;
        }
        auto last = static_cast<std::int64_t>(si->State.LastSeq);
        jsStreamInfo_Destroy(si);
        if (s.position > last) {
            // The stream holds less than this subscriber has processed: it lost its end (a power
            // cut of every node) or was recreated. As in-process: read on from its end; events
            // published again get numbers after it, and the inbox drops those already applied.
            log::error("the stream is behind this subscriber's position; reading on from its end",
                       {{"subscriber", s.name},
                        {"position", std::to_string(s.position)},
                        {"stream_last", std::to_string(last)}});
            s.position = last;
            db::WriteTx tx(*s.db);
            position::save(tx, s.name, last, util::unix_now_ms());
            tx.commit();
        }
        // The consumer is made anew from the position on every start. A consumer kept from the
        // last run would hand out the events after the last one it delivered, and those the last
        // run had fetched but not acked only once their ack wait ran out: out of order.
        st = js_DeleteConsumer(js, options.stream.c_str(), s.consumer.c_str(), nullptr, &code);
        if (st != NATS_OK && code != JSConsumerNotFoundErr) {
            log::warn("cannot reset the durable consumer",
                      {{"subscriber", s.name}, {"error", status_text(st, code)}});
            return false;
        }
        jsConsumerInfo* ci = nullptr;
        {
            auto filter = nats_subject(s.subject, options.subject_prefix);
            jsConsumerConfig cc;
            jsConsumerConfig_Init(&cc);  // sets the policies to -1: each is chosen below
            cc.Durable = s.consumer.c_str();
            cc.FilterSubject = filter.c_str();
            cc.AckPolicy = js_AckAll;
            cc.ReplayPolicy = js_ReplayInstant;
            cc.DeliverPolicy = s.position > 0 ? js_DeliverByStartSequence : js_DeliverAll;
            cc.OptStartSeq = s.position > 0 ? static_cast<uint64_t>(s.position + 1) : 0;
            cc.AckWait = 30 * 1000 * ns_per_ms;  // renewed (InProgress) while a retry is waited out
            cc.MaxDeliver = -1;                  // our RetryPolicy parks, not JetStream
            cc.MaxAckPending = 4 * options.fetch_batch;
            // As the stream's. One replica would save the servers a third of their CPU (a
            // consumer's state is only a hint here), but a consumer whose node is down cannot be
            // deleted or made anew until it is back: its subscriber would stop with the node.
            cc.Replicas = 0;
            st = js_AddConsumer(&ci, js, options.stream.c_str(), &cc, nullptr, &code);
        }
        if (ci) jsConsumerInfo_Destroy(ci);
        if (st != NATS_OK) {
            log::warn("cannot set up the durable consumer",
                      {{"subscriber", s.name}, {"error", status_text(st, code)}});
            return false;
        }
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = options.stream.c_str();
        so.Consumer = s.consumer.c_str();
        auto filter = nats_subject(s.subject, options.subject_prefix);
        s.last_delivery = 0;
        st = js_PullSubscribe(&s.sub, js, filter.c_str(), s.consumer.c_str(), nullptr, &so, &code);
        if (st != NATS_OK) {
            log::warn("cannot bind the pull subscription",
                      {{"subscriber", s.name}, {"error", status_text(st, code)}});
            s.sub = nullptr;
            return false;
        }
        return true;
    }

    // Fetches the next events into s.held (one Fetch at a time per subscription), in two steps.
    // First what the consumer has now, up to a batch, without waiting. Only when it has nothing,
    // a wait for the next event alone: nats.c's wait ends at its batch or its timeout, so a wait
    // for a whole batch would hold a lone event until the timeout (50 ms on every hop of a
    // purchase). The timeout bounds how long a stop waits for this thread.
    void fetch(Subscriber& s) {
        // nats.c before 3.9 overflows a buffer when a fetch finds messages left over from an
        // earlier timed-out request in the queue: take those one at a time.
        int leftover = 0, bytes = 0;
        natsSubscription_GetPending(s.sub, &leftover, &bytes);
        natsMsgList list{};
        jsFetchRequest req;
        jsFetchRequest_Init(&req);
        req.Batch = leftover > 0 ? 1 : options.fetch_batch;
        req.NoWait = true;
        req.Expires = 50 * ns_per_ms;
        auto began = Clock::now();
        natsStatus st = natsSubscription_FetchRequest(&list, s.sub, &req);
        if (st == NATS_NOT_FOUND) {  // the consumer answered that it has nothing now
            natsMsgList_Destroy(&list);
            list = natsMsgList{};
            s.silent_since.reset();
            jsFetchRequest_Init(&req);
            req.Batch = 1;
            req.Expires = 50 * ns_per_ms;
            began = Clock::now();
            st = natsSubscription_FetchRequest(&list, s.sub, &req);
            if (st == NATS_TIMEOUT || st == NATS_NOT_FOUND) {
                natsMsgList_Destroy(&list);
                // Nothing yet; before 3.6.1 a stale 408 can also end a wait at once: do not spin.
                if (Clock::now() - began < std::chrono::milliseconds(5))
                    sleep_unless_stopping(std::chrono::milliseconds(20));
                return;
            }
        }
        if (st == NATS_OK) {
            s.silent_since.reset();
            take(s, list);
            return;
        }
        natsMsgList_Destroy(&list);
        // A stale 408 (a wait that timed out here just before the server said so) ends a fetch
        // at once: the next one is answered (the pause only keeps anything else from spinning).
        if (st == NATS_TIMEOUT && Clock::now() - began < std::chrono::milliseconds(5)) {
            sleep_unless_stopping(std::chrono::milliseconds(1));
            return;
        }
        // No answer: a leader election (seconds), or the consumer was deleted (by hand, or with
        // the stream). After two seconds of silence, a consumer the server says it does not
        // know is made anew; while the cluster elects, it is only waited for (remaking consumers
        // then would only add to the election's load).
        if (st != NATS_TIMEOUT)
            log::warn("fetching events failed",
                      {{"subscriber", s.name}, {"error", status_text(st)}});
        if (!s.silent_since) s.silent_since = Clock::now();
        if (Clock::now() - *s.silent_since > std::chrono::seconds(2)) {
            s.silent_since.reset();
            jsConsumerInfo* ci = nullptr;
            jsErrCode code = static_cast<jsErrCode>(0);
            st = js_GetConsumerInfo(&ci, js, options.stream.c_str(), s.consumer.c_str(), nullptr,
                                    &code);
            if (ci) jsConsumerInfo_Destroy(ci);
            if (code == JSConsumerNotFoundErr) {
                log::warn("the durable consumer is gone; making it anew", {{"subscriber", s.name}});
                rebind(s);
                return;
            }
        }
        sleep_unless_stopping(std::chrono::milliseconds(st == NATS_TIMEOUT ? 20 : 250));
    }

    // Moves the fetched messages into s.held, in order, skipping what was processed already.
    // False if a delivery was missing (the subscription was then made anew).
    bool take(Subscriber& s, natsMsgList& list) {
        natsMsg* last_skipped = nullptr;
        for (int i = 0; i < list.Count; ++i) {
            natsMsg* msg = list.Msgs[i];
            list.Msgs[i] = nullptr;  // ours now
            jsMsgMetaData* meta = nullptr;
            if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {
                natsMsg_Destroy(msg);  // not a JetStream message (a status): nothing to apply
                continue;
            }
            auto seq = static_cast<std::int64_t>(meta->Sequence.Stream);
            auto delivery = meta->Sequence.Consumer;
            auto logged_ms = meta->Timestamp / ns_per_ms;
            jsMsgMetaData_Destroy(meta);
            // Deliveries are numbered without gaps. A gap is a delivery lost on the way (a node
            // or the connection went down): JetStream would send it again only after its ack
            // wait, behind later events. Nothing past the gap is applied; see rebind().
            if (s.last_delivery != 0 && delivery != s.last_delivery + 1) {
                log::warn("a delivery was lost on the way; reading again from the position",
                          {{"subscriber", s.name},
                           {"expected", std::to_string(s.last_delivery + 1)},
                           {"got", std::to_string(delivery)}});
                natsMsg_Destroy(msg);
                for (int j = i + 1; j < list.Count; ++j) {
                    natsMsg_Destroy(list.Msgs[j]);
                    list.Msgs[j] = nullptr;
                }
                natsMsgList_Destroy(&list);
                if (last_skipped) natsMsg_Destroy(last_skipped);
                rebind(s);
                return false;
            }
            s.last_delivery = delivery;
            if (!s.held.empty() && seq <= s.events.back().seq) {  // a redelivery of one held here
                natsMsg_Destroy(msg);
                continue;
            }
            if (seq <= s.position) {  // processed already (JetStream's state lagged ours): skip
                if (last_skipped) natsMsg_Destroy(last_skipped);
                last_skipped = msg;
                continue;
            }
            s.events.push_back(to_event(msg, seq, logged_ms));
            s.held.push_back(msg);
        }
        natsMsgList_Destroy(&list);
        if (last_skipped) {
            // Acks all before it too: only while nothing unapplied is held, or it would ack that.
            if (s.held.empty()) natsMsg_Ack(last_skipped, nullptr);
            natsMsg_Destroy(last_skipped);
        }
        return true;
    }

    // Drops what is held, and makes the consumer anew from the position (as at start). The old
    // subscription is only unsubscribed: nats.c before 3.6.1 can crash destroying one while the
    // connection is open, so it is destroyed after the connection is closed.
    void rebind(Subscriber& s) {
        for (auto* m : s.held) natsMsg_Destroy(m);
        s.held.clear();
        s.events.clear();
        if (s.sub) {
            natsSubscription_Unsubscribe(s.sub);
            std::lock_guard lock(mutex);
            retired.push_back(s.sub);
            s.sub = nullptr;
        }
        s.bound = false;
        while (!is_stopping() && !bind(s)) sleep_unless_stopping(std::chrono::milliseconds(500));
        s.bound = s.sub != nullptr;
    }

    // Applies what s.held holds, as LocalBus's delivery does, then acks what was applied.
    void apply(Subscriber& s) {
        auto handled = apply_in_order(*s.db, s.name, s.events, s.attempts, options.retry, s.handler,
                                      s.last_error);
        std::size_t done = handled.applied;
        if (done > 0) s.attempts = 0;
        if (handled.failed) {
            ++s.attempts;
            if (s.attempts >= options.retry.max_attempts) {
                park(*dead, *s.db, s.name, s.events[done], s.last_error, s.attempts);
                ++done;
                s.attempts = 0;
                s.not_before = {};
            } else {
                s.not_before = Clock::now() + options.retry.backoff(s.attempts);
            }
        }
        if (done == 0) return;
        s.position = s.events[done - 1].seq;
        // The ack tells JetStream not to deliver these again: the effects must be on disk first.
        s.db->sync();
        natsMsg_Ack(s.held[done - 1], nullptr);  // AckAll: also every earlier one
        for (std::size_t i = 0; i < done; ++i) natsMsg_Destroy(s.held[i]);
        s.held.erase(s.held.begin(), s.held.begin() + static_cast<std::ptrdiff_t>(done));
        s.events.erase(s.events.begin(), s.events.begin() + static_cast<std::ptrdiff_t>(done));
    }

    void deliver_loop(Subscriber& s) {
        util::name_this_thread("nats-" + s.consumer, util::ThreadKind::background);
        s.position = position::load(*s.db, s.name, 0, util::unix_now_ms());
        while (!is_stopping() && !bind(s)) sleep_unless_stopping(std::chrono::milliseconds(500));
        s.bound = s.sub != nullptr;
        auto next_requeue_check = Clock::now();
        while (!is_stopping()) {
            try {
                if (Clock::now() >= next_requeue_check) {
                    next_requeue_check = Clock::now() + std::chrono::seconds(1);
                    while (redeliver_requeued(*dead, *s.db, s.name, s.handler)) {
                    }
                }
                if (s.held.empty()) {
                    s.busy = false;
                    fetch(s);
                    continue;
                }
                s.busy = true;
                if (s.attempts > 0 && Clock::now() < s.not_before) {
                    natsMsg_InProgress(s.held.front(), nullptr);  // keeps its ack deadline away
                    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(s.not_before -
                                                                                      Clock::now());
                    sleep_unless_stopping(std::min(wait, std::chrono::milliseconds(1000)));
                    continue;
                }
                apply(s);
            } catch (const std::exception& e) {
                // The database itself failed (disk full, I/O error): back off, keep the events.
                log::error("delivery failed", {{"subscriber", s.name}, {"error", e.what()}});
                sleep_unless_stopping(options.retry.max_backoff);
            }
        }
    }

    // Events of the subscriber's subject in the stream and not yet applied here.
    std::int64_t lag_of(Subscriber& s) {
        jsConsumerInfo* ci = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        if (js_GetConsumerInfo(&ci, js, options.stream.c_str(), s.consumer.c_str(), nullptr,
                               &code) != NATS_OK)
            return -1;
        // Acknowledged but pending, or never delivered; plus what this process holds unacked.
        auto lag = static_cast<std::int64_t>(ci->NumPending) + ci->NumAckPending;
        jsConsumerInfo_Destroy(ci);
        s.lag = lag;
        return lag;
    }
};

void NatsBus::tail(const NatsBusOptions& options, std::int64_t after, const std::string& subject,
                   bool follow, const std::function<void(const RawEvent&)>& print) {
    Impl impl(nullptr, options);
    impl.connect();
    struct Closer {
        Impl& i;
        ~Closer() {
            natsConnection_Close(i.nc);
            jsCtx_Destroy(i.js);
            natsConnection_Destroy(i.nc);
            i.js = nullptr;
            i.nc = nullptr;
        }
    } closer{impl};
    for (int i = 0; i < 50 && !impl.connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!impl.connected())
        throw std::runtime_error("cannot reach NATS at " + options.servers.front());
    auto seq = static_cast<uint64_t>(after);
    for (;;) {
        jsStreamInfo* si = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        natsStatus st = js_GetStreamInfo(&si, impl.js, options.stream.c_str(), nullptr, &code);
        if (st != NATS_OK)
            throw std::runtime_error("cannot read stream " + options.stream + ": " +
                                     status_text(st, code));
        auto last = si->State.LastSeq;
        jsStreamInfo_Destroy(si);
        for (; seq < last; ++seq) {
            natsMsg* msg = nullptr;
            st = js_GetMsg(&msg, impl.js, options.stream.c_str(), seq + 1, nullptr, &code);
            if (st != NATS_OK) {
                if (code == JSNoMessageFoundErr) continue;  // removed (by a limit): a gap
                throw std::runtime_error("cannot read event " + std::to_string(seq + 1) + ": " +
                                         status_text(st, code));
            }
            auto e = to_event(msg, static_cast<std::int64_t>(natsMsg_GetSequence(msg)),
                              natsMsg_GetTime(msg) / ns_per_ms);
            natsMsg_Destroy(msg);
            if (subject.empty() || subject == e.subject) print(e);
        }
        if (!follow) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

NatsBus::NatsBus(db::Database& local, NatsBusOptions options)
    : impl_(std::make_unique<Impl>(&local, std::move(options))) {}

NatsBus::~NatsBus() {
    stop();
    auto& i = *impl_;
    // nats.c 3.4 can crash if a subscription is destroyed while its connection is open: close
    // the connection first.
    if (i.nc) natsConnection_Close(i.nc);
    for (auto* sub : i.retired) natsSubscription_Destroy(sub);
    for (auto& s : i.subs) {
        if (s->sub) natsSubscription_Destroy(s->sub);
        for (auto* m : s->held) natsMsg_Destroy(m);
    }
    if (i.js) jsCtx_Destroy(i.js);
    if (i.nc) natsConnection_Destroy(i.nc);
}

void NatsBus::attach_outbox(db::Database& db) {
    std::lock_guard lock(impl_->mutex);
    impl_->outboxes.push_back(&db);
}

void NatsBus::outbox_committed(db::Database&) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->relay_due = true;
    }
    impl_->wake.notify_all();
}

void NatsBus::subscribe_raw(std::string name, std::string subject, db::Database& db,
                            RawHandler handler) {
    auto& i = *impl_;
    i.dead->register_subscriber(name, subject);  // one name, one subject, as in-process
    std::lock_guard lock(i.mutex);
    if (i.started) throw std::logic_error("subscribe before start(): " + name);
    auto s = std::make_unique<Impl::Subscriber>();
    s->consumer = consumer_name(name);
    s->name = std::move(name);
    s->subject = std::move(subject);
    s->db = &db;
    s->handler = std::move(handler);
    i.subs.push_back(std::move(s));
}

void NatsBus::start() {
    auto& i = *impl_;
    {
        std::lock_guard lock(i.mutex);
        if (i.started) return;
        i.started = true;
        i.stopping = false;
    }
    if (!i.nc) i.connect();
    i.relay_thread = std::thread([&i] { i.relay_loop(); });
    for (auto& s : i.subs) {
        Impl::Subscriber& sub = *s;
        sub.thread = std::thread([&i, &sub] { i.deliver_loop(sub); });
    }
}

void NatsBus::stop() {
    auto& i = *impl_;
    {
        std::lock_guard lock(i.mutex);
        if (!i.started || i.stopping) return;
        i.stopping = true;
    }
    i.wake.notify_all();
    if (i.relay_thread.joinable()) i.relay_thread.join();
    for (auto& s : i.subs)
        if (s->thread.joinable()) s->thread.join();
    if (i.js) {
        jsPubOptions wait;
        jsPubOptions_Init(&wait);
        wait.MaxWait = 1000;
        js_PublishAsyncComplete(i.js, &wait);
    }
    std::lock_guard lock(i.mutex);
    i.started = false;
}

bool NatsBus::running() const {
    auto& i = *impl_;
    std::lock_guard lock(i.mutex);
    if (!(i.started && !i.stopping && i.stream_ready && i.connected())) return false;
    // Ready once every subscriber's consumer is set up (on a cluster just formed that takes a
    // moment): an event published from now on reaches its subscribers without waiting on that.
    return std::all_of(i.subs.begin(), i.subs.end(), [](auto& s) { return s->bound.load(); });
}

bool NatsBus::wait_idle(std::chrono::milliseconds timeout) {
    auto& i = *impl_;
    auto deadline = Clock::now() + timeout;
    for (;;) {
        // Not connected yet (start() connects in the background), or the connection is down:
        // waited for like the events, within the same timeout.
        bool idle = running();
        std::vector<db::Database*> dbs;
        {
            std::lock_guard lock(i.mutex);
            dbs = i.outboxes;
        }
        for (auto* db : dbs)
            if (idle && outbox::count(*db) > 0) idle = false;
        for (auto& s : i.subs)
            if (idle && (s->busy || i.lag_of(*s) != 0)) idle = false;
        if (idle) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::vector<SubscriberStatus> NatsBus::subscribers() const {
    auto& i = *impl_;
    std::vector<SubscriberStatus> out;
    for (auto& s : i.subs) {
        auto position = position::read(*s->db, s->name);
        auto lag = i.connected() ? i.lag_of(*s) : s->lag.load();
        out.push_back({.name = s->name,
                       .subject = s->subject,
                       .database = s->db->name(),
                       .position = position,
                       .head = position + std::max<std::int64_t>(lag, 0),
                       .lag = lag});
    }
    return out;
}

}  // namespace ticketd::bus
