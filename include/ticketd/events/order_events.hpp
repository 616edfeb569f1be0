#pragma once
// Events published by the orders module.
#include <cstdint>
#include <string>

#include "ticketd/events/contract.hpp"

namespace ticketd::events {

// A buyer reserved a ticket. Consumed by tickets, payments and expiration.
struct OrderCreated {
    static constexpr std::string_view subject = "order:created";
    struct Ticket {
        std::string id;
        std::int64_t price_cents = 0;  // the price the buyer saw: what payment charges
    };
    std::string id;
    std::int64_t version = 0;  // the order's version after this change: 0
    std::string status;        // "created"
    std::string user_id;       // the buyer; wire: "userId"
    std::string expires_at;    // RFC 3339 UTC; wire: "expiresAt"
    Ticket ticket;             // wire: "ticket": {"id", "priceCents"}
};

// An order was cancelled (by its buyer or by expiry): the ticket is free again.
struct OrderCancelled {
    static constexpr std::string_view subject = "order:cancelled";
    struct Ticket {
        std::string id;
    };
    std::string id;
    std::int64_t version = 0;
    Ticket ticket;
};

// An order was paid: the sale is final. Consumed by tickets (it records the sale)
// and expiration (the reservation's job is dropped).
struct OrderCompleted {
    static constexpr std::string_view subject = "order:completed";
    struct Ticket {
        std::string id;
    };
    std::string id;
    std::int64_t version = 0;
    std::string user_id;  // the buyer; wire: "userId"
    Ticket ticket;
};

template <>
inline constexpr bool is_contract<OrderCreated> = true;
template <>
inline constexpr bool is_contract<OrderCancelled> = true;
template <>
inline constexpr bool is_contract<OrderCompleted> = true;

void tag_invoke(boost::json::value_from_tag, boost::json::value&, const OrderCreated&);
OrderCreated tag_invoke(boost::json::value_to_tag<OrderCreated>, const boost::json::value&);
void tag_invoke(boost::json::value_from_tag, boost::json::value&, const OrderCancelled&);
OrderCancelled tag_invoke(boost::json::value_to_tag<OrderCancelled>, const boost::json::value&);
void tag_invoke(boost::json::value_from_tag, boost::json::value&, const OrderCompleted&);
OrderCompleted tag_invoke(boost::json::value_to_tag<OrderCompleted>, const boost::json::value&);

}  // namespace ticketd::events
