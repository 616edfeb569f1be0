#pragma once
#include <boost/json/fwd.hpp>
#include <string_view>

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

}  // namespace ticketd::events
