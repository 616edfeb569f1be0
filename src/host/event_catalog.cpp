#include "host/event_catalog.hpp"

#include <map>
#include <set>
#include <sstream>

#include <boost/json.hpp>

#include "bus/bus.hpp"

namespace ticketd::host {
namespace {

struct Contract {
    std::string subject;
    std::vector<std::string> fields;  // "ticket.priceCents: integer", "orderId?: string"
    std::vector<std::string> publishers;
    std::vector<std::string> subscribers;  // durable names
};

std::string json_type(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::string: return "string";
        case boost::json::kind::int64:
        case boost::json::kind::uint64: return "integer";
        case boost::json::kind::double_: return "number";
        case boost::json::kind::bool_: return "boolean";
        case boost::json::kind::array: return "array";
        case boost::json::kind::object: return "object";
        default: return "null";
    }
}

void describe(const boost::json::object& full, const boost::json::object* plain,
              const std::string& prefix, std::vector<std::string>& out) {
    for (const auto& [key, value] : full) {
        bool optional = !plain || !plain->contains(key);
        std::string name = prefix + std::string(key) + (optional ? "?" : "");
        if (value.is_object()) {
            const boost::json::object* nested =
                plain && plain->contains(key) && plain->at(key).is_object()
                    ? &plain->at(key).get_object()
                    : nullptr;
            describe(value.get_object(), nested, prefix + std::string(key) + ".", out);
        } else {
            out.push_back(name + ": " + json_type(value));
        }
    }
}

std::vector<Contract> contracts(const bus::Bus& bus, const std::vector<host::ContractInfo>& infos) {
    std::vector<Contract> out;
    std::multimap<std::string, std::string> subscribed;
    for (const auto& s : bus.subscribers()) subscribed.emplace(s.subject, s.name);
    for (const auto& info : infos) {
        Contract c;
        c.subject = info.subject;
        c.fields = info.fields;
        for (const auto& [subject, module] : bus.publishers())
            if (subject == c.subject) c.publishers.push_back(module);
        auto [b, e] = subscribed.equal_range(c.subject);
        for (auto it = b; it != e; ++it) c.subscribers.push_back(it->second);
        std::sort(c.subscribers.begin(), c.subscribers.end());
        out.push_back(std::move(c));
    }
    return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out.empty() ? "(none)" : out;
}

std::string module_of(const std::string& durable_name) {
    return durable_name.substr(0, durable_name.find('.'));
}

}  // namespace

std::vector<std::string> describe_fields(const boost::json::object& full,
                                         const boost::json::object& plain) {
    std::vector<std::string> out;
    describe(full, &plain, "", out);
    return out;
}

std::string event_catalog(const bus::Bus& bus, const std::vector<ContractInfo>& infos) {
    std::ostringstream out;
    for (const auto& c : contracts(bus, infos)) {
        out << c.subject << "\n";
        out << "  fields:      " << join(c.fields, ", ") << "\n";
        out << "  publishers:  " << join(c.publishers, ", ") << "\n";
        out << "  subscribers: " << join(c.subscribers, ", ") << "\n";
    }
    return out.str();
}

std::string event_graph(const bus::Bus& bus, const std::vector<ContractInfo>& infos) {
    std::ostringstream out;
    out << "flowchart LR\n";
    std::set<std::string> lines;
    for (const auto& c : contracts(bus, infos))
        for (const auto& p : c.publishers)
            for (const auto& s : c.subscribers)
                lines.insert("  " + p + " -- \"" + c.subject + "\" --> " + module_of(s));
    for (const auto& l : lines) out << l << "\n";
    return out.str();
}

std::string events_doc(const bus::Bus& bus, const std::vector<ContractInfo>& infos,
                       const std::string& intro) {
    std::ostringstream out;
    out << intro << "## Flows\n\n```mermaid\n"
        << event_graph(bus, infos) << "```\n\n## Contracts\n\n"
        << "| subject | fields | published by | subscribers (durable names) |\n| --- | --- | --- | "
           "--- |\n";
    for (const auto& c : contracts(bus, infos)) {
        std::string fields;
        for (const auto& f : c.fields)
            fields += (fields.empty() ? "" : "<br>") + std::string("`") + f + "`";
        out << "| `" << c.subject << "` | " << fields << " | " << join(c.publishers, ", ") << " | "
            << join(c.subscribers, ", ") << " |\n";
    }
    return out.str();
}

}  // namespace ticketd::host
