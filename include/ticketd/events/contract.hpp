#pragma once
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace ticketd::events {

// Only the structs declared in this folder are events: each header specializes is_contract for
// its own types. bus::Bus::publish and subscribe accept nothing else, so an ad-hoc struct or a
// misspelled subject does not compile.
template <class E>
inline constexpr bool is_contract = false;

template <class E>
concept Contract = is_contract<E> && requires {
    { E::subject } -> std::convertible_to<std::string_view>;
};

// A contract's wire form: JSON through its tag_invoke overloads (camelCase keys, unknown keys
// ignored, optional keys optional). Defined in events/json_codec.hpp, which pulls in Boost.JSON:
// each program instantiates them once for its contracts (ticketd: src/events/codec.cpp), and
// code that publishes or subscribes compiles without those headers.
template <Contract E>
std::string encode(const E& event);
// Throws std::invalid_argument naming a missing or mistyped key, or boost::system::system_error
// for text that is not JSON.
template <Contract E>
E decode(std::string_view json);

}  // namespace ticketd::events
