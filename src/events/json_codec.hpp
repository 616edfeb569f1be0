#pragma once
// The definitions of events::encode and events::decode (see ticketd/events/contract.hpp), for
// the one file per program that instantiates them for its contracts.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "ticketd/events/contract.hpp"

namespace ticketd::events {

template <Contract E>
std::string encode(const E& event) {
    return boost::json::serialize(boost::json::value_from(event));
}

template <Contract E>
E decode(std::string_view json) {
    return boost::json::value_to<E>(boost::json::parse(json));
}

}  // namespace ticketd::events
