#pragma once
// The event catalog and publish/subscribe graph, generated from the registered contracts,
// publishers and subscriptions, so documentation cannot drift from the code.
#include <string>

namespace ticketd::bus {
class Bus;
}

namespace ticketd {

// Plain text: each contract's subject, fields with JSON types, publishers and subscribers.
std::string event_catalog(const bus::Bus& bus);
// A Mermaid flowchart: module --subject--> module.
std::string event_graph(const bus::Bus& bus);
// docs/events.md: the catalog and the graph in Markdown.
std::string events_doc(const bus::Bus& bus);

}  // namespace ticketd
