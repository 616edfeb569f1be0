#include "support/probe_module.hpp"

#include <stdexcept>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>

#include "bus/bus.hpp"
#include "db/database.hpp"
#include "http/api_error.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"
#include "ticketd/events/ticket_events.hpp"
#include "util/ids.hpp"

namespace ticketd::test {
namespace {

class ProbeModule final : public Module {
public:
    explicit ProbeModule(const ModuleContext& ctx) : db_(ctx.open_database("probe")) {
        db::WriteTx tx(*db_);
        tx.exec("CREATE TABLE IF NOT EXISTS seen (event_id TEXT, id TEXT, title TEXT)");
        tx.commit();
    }
    std::string_view name() const override { return "probe"; }
    db::Database& database() override { return *db_; }

    void add_routes(http::Router& router) override {
        router.post("/test/probe", [this](const http::Request& req) {
            auto body = http::json_object(req);
            auto title = http::required_string(body, "title", "Title is required");
            events::TicketCreated e{util::random_id(), 0, title, 100, "probe-user"};
            db::WriteTx tx(*db_);
            bus_->publish(tx, e);
            tx.commit();
            return http::json(201, boost::json::object{{"id", e.id}});
        });
        router.get("/test/probe", [this](const http::Request&) {
            db::ReadLock read(*db_);
            auto& q = read.statement("SELECT title FROM seen ORDER BY rowid");
            boost::json::array titles;
            while (q.executeStep())
                titles.push_back(boost::json::string(q.getColumn(0).getString()));
            return http::json(200, titles);
        });
        router.get("/test/boom", [](const http::Request&) -> http::Response {
            throw std::runtime_error("secret internal detail");
        });
    }

    void add_listeners(bus::Bus& bus) override {
        bus_ = &bus;
        bus.subscribe<events::TicketCreated>(
            "probe.ticket-created", *db_, [](db::WriteTx& tx, const events::TicketCreated& e) {
                if (e.title == "poison") throw std::runtime_error("poison event");
                auto& ins = tx.statement("INSERT INTO seen (event_id, id, title) VALUES (?, ?, ?)");
                ins.bind(1, e.id);
                ins.bind(2, e.id);
                ins.bind(3, e.title);
                ins.exec();
                return bus::Outcome::ack;
            });
    }

private:
    std::unique_ptr<db::Database> db_;
    bus::Bus* bus_ = nullptr;
};

}  // namespace

ModuleFactory probe_module() {
    return [](const ModuleContext& ctx) { return std::make_unique<ProbeModule>(ctx); };
}

}  // namespace ticketd::test
