#pragma once
// The event catalog and publish/subscribe graph, generated from the registered contracts,
// publishers and subscriptions, so documentation cannot drift from the code.
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

namespace ticketd::bus {
class Bus;
}

namespace ticketd::host {

// One contract as the catalog shows it: its subject and its fields with JSON types
// ("ticket.priceCents: integer", "orderId?: string").
struct ContractInfo {
    std::string subject;
    std::vector<std::string> fields;
};

// The fields of a contract from two encodings: `full` with every optional key present, `plain`
// with the optional keys left out. Used by describe_contract (host/describe_contract.hpp).
std::vector<std::string> describe_fields(const boost::json::object& full,
                                         const boost::json::object& plain);

// Plain text: each contract's subject, fields with JSON types, publishers and subscribers.
std::string event_catalog(const bus::Bus& bus, const std::vector<ContractInfo>& contracts);
// A Mermaid flowchart: module --subject--> module.
std::string event_graph(const bus::Bus& bus, const std::vector<ContractInfo>& contracts);
// A Markdown page: `intro` (a heading and a paragraph), then the graph and the contracts' table.
std::string events_doc(const bus::Bus& bus, const std::vector<ContractInfo>& contracts,
                       const std::string& intro);

}  // namespace ticketd::host
