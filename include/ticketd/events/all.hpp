#pragma once
// Every event contract, for code that must know them all (the event catalog).
#include "ticketd/events/expiration_events.hpp"
#include "ticketd/events/order_events.hpp"
#include "ticketd/events/payment_events.hpp"
#include "ticketd/events/ticket_events.hpp"
