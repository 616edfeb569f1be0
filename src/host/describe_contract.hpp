#pragma once
// describe_contract<E>(): a contract's entry in the event catalog, read off its JSON encoding.
// Pulls in Boost.JSON: include it only where an application lists its contracts.
#include <boost/json/value_from.hpp>

#include "host/event_catalog.hpp"

namespace ticketd::host {

// `full` must have every optional field set, so that the catalog sees every key; the keys E{}
// leaves out are the optional ones.
template <class E>
ContractInfo describe_contract(const E& full) {
    auto f = boost::json::value_from(full);
    auto plain = boost::json::value_from(E{});
    return {std::string(E::subject), describe_fields(f.get_object(), plain.get_object())};
}

}  // namespace ticketd::host
