#pragma once
// Events published by the expiration module.
#include <string>

#include "ticketd/events/contract.hpp"

namespace ticketd::events {

// An order's reservation window has passed. Consumed by orders (cancel unless complete).
struct ExpirationComplete {
    static constexpr std::string_view subject = "expiration:complete";
    std::string order_id;  // wire: "orderId"
};

template <>
inline constexpr bool is_contract<ExpirationComplete> = true;

void tag_invoke(boost::json::value_from_tag, boost::json::value&, const ExpirationComplete&);
ExpirationComplete tag_invoke(boost::json::value_to_tag<ExpirationComplete>,
                              const boost::json::value&);

}  // namespace ticketd::events
