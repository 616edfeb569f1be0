#pragma once
// The blog's event contracts: typed structs, as ticketd's (include/ticketd/events/), so a
// subject or a field cannot be misspelt and `blog events catalog` lists them from the code.
// Their JSON mapping is in src/events.cpp.
#include <string>
#include <string_view>

#include "ticketd/events/contract.hpp"

namespace blog::events {

// A comment's moderation status, `pending` until moderation decides. On the wire and in the
// databases it is its text (to_text / status_from_text, in src/events.cpp).
enum class CommentStatus { pending, approved, rejected };
std::string_view to_text(CommentStatus status);
// Throws std::invalid_argument for any other text.
CommentStatus status_from_text(std::string_view text);

// A post was written. posts publishes it; comments (its replica) and query consume it.
struct PostCreated {
    static constexpr std::string_view subject = "post:created";
    std::string id;
    std::string title;
};

// A comment was written, `pending`. comments publishes it; moderation and query consume it.
struct CommentCreated {
    static constexpr std::string_view subject = "comment:created";
    std::string id;
    std::string post_id;  // wire: "postId"
    std::string content;
    CommentStatus status = CommentStatus::pending;
};

// Moderation decided: `approved` or `rejected`. Consumed by comments, which owns the comment.
struct CommentModerated {
    static constexpr std::string_view subject = "comment:moderated";
    std::string id;
    std::string post_id;
    CommentStatus status = CommentStatus::pending;
};

// A comment changed (its status, after moderation). comments publishes it; query consumes it.
struct CommentUpdated {
    static constexpr std::string_view subject = "comment:updated";
    std::string id;
    std::string post_id;
    std::string content;
    CommentStatus status = CommentStatus::pending;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value&, const PostCreated&);
PostCreated tag_invoke(boost::json::value_to_tag<PostCreated>, const boost::json::value&);
void tag_invoke(boost::json::value_from_tag, boost::json::value&, const CommentCreated&);
CommentCreated tag_invoke(boost::json::value_to_tag<CommentCreated>, const boost::json::value&);
void tag_invoke(boost::json::value_from_tag, boost::json::value&, const CommentModerated&);
CommentModerated tag_invoke(boost::json::value_to_tag<CommentModerated>, const boost::json::value&);
void tag_invoke(boost::json::value_from_tag, boost::json::value&, const CommentUpdated&);
CommentUpdated tag_invoke(boost::json::value_to_tag<CommentUpdated>, const boost::json::value&);

// Calls f.template operator()<E>() for every contract, in a stable order (the catalog's).
template <class F>
void for_each_contract(F&& f) {
    f.template operator()<PostCreated>();
    f.template operator()<CommentCreated>();
    f.template operator()<CommentModerated>();
    f.template operator()<CommentUpdated>();
}

}  // namespace blog::events

namespace ticketd::events {
template <>
inline constexpr bool is_contract<blog::events::PostCreated> = true;
template <>
inline constexpr bool is_contract<blog::events::CommentCreated> = true;
template <>
inline constexpr bool is_contract<blog::events::CommentModerated> = true;
template <>
inline constexpr bool is_contract<blog::events::CommentUpdated> = true;
}  // namespace ticketd::events
