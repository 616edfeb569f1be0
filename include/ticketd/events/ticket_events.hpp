#pragma once
// Events published by the tickets module.
#include <cstdint>
#include <optional>
#include <string>

#include "ticketd/events/contract.hpp"

namespace ticketd::events {

// A seller listed a ticket. Consumed by orders (its ticket replica).
struct TicketCreated {
    static constexpr std::string_view subject = "ticket:created";  // wire name: never renamed
    std::string id;
    std::int64_t version = 0;  // the ticket's version after this change: 0
    std::string title;
    std::int64_t price_cents = 0;  // wire: "priceCents"
    std::string user_id;           // the seller; wire: "userId"
};

// A ticket changed: edited by its owner, reserved (orderId set) or released (orderId absent).
struct TicketUpdated {
    static constexpr std::string_view subject = "ticket:updated";
    std::string id;
    std::int64_t version = 0;
    std::string title;
    std::int64_t price_cents = 0;
    std::string user_id;
    std::optional<std::string> order_id;  // wire: "orderId", absent while the ticket is free
};

template <>
inline constexpr bool is_contract<TicketCreated> = true;
template <>
inline constexpr bool is_contract<TicketUpdated> = true;

// Defined in src/events/: camelCase keys, unknown keys ignored, optional keys optional.
// Decoding throws std::invalid_argument naming the missing or mistyped key.
void tag_invoke(boost::json::value_from_tag, boost::json::value&, const TicketCreated&);
TicketCreated tag_invoke(boost::json::value_to_tag<TicketCreated>, const boost::json::value&);
void tag_invoke(boost::json::value_from_tag, boost::json::value&, const TicketUpdated&);
TicketUpdated tag_invoke(boost::json::value_to_tag<TicketUpdated>, const boost::json::value&);

}  // namespace ticketd::events
