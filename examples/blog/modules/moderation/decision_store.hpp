#pragma once
// Every SQL statement of the moderation module.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_moderation)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <cstdint>
#include <optional>
#include <string>

#include "blog/events.hpp"

namespace ticketd::db {
class WriteTx;
class ReadLock;
}  // namespace ticketd::db

namespace blog::moderation {

struct Decision {
    std::string comment_id;
    std::string post_id;
    events::CommentStatus status = events::CommentStatus::approved;
    std::optional<std::string> banned_word;
};

class DecisionStore {
public:
    // False if the comment was decided before (the decision stands).
    bool record(ticketd::db::WriteTx& tx, const Decision& d, std::int64_t now_ms);
    std::int64_t count(ticketd::db::ReadLock& read, events::CommentStatus status);
};

}  // namespace blog::moderation
