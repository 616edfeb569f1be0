// The blog's contracts on the wire (camelCase JSON), encoded and decoded here once.
#include "blog/events.hpp"

#include <stdexcept>

#include "events/json_codec.hpp"
#include "events/json_fields.hpp"

namespace blog::events {
namespace json = boost::json;
using namespace ticketd::events::detail;

std::string_view to_text(CommentStatus status) {
    switch (status) {
        case CommentStatus::pending: return "pending";
        case CommentStatus::approved: return "approved";
        case CommentStatus::rejected: return "rejected";
    }
    throw std::logic_error("unknown comment status");
}

CommentStatus status_from_text(std::string_view text) {
    if (text == "pending") return CommentStatus::pending;
    if (text == "approved") return CommentStatus::approved;
    if (text == "rejected") return CommentStatus::rejected;
    throw std::invalid_argument("status must be pending, approved or rejected, got '" +
                                std::string(text) + "'");
}

void tag_invoke(json::value_from_tag, json::value& v, const PostCreated& e) {
    v = json::object{{"id", e.id}, {"title", e.title}};
}

PostCreated tag_invoke(json::value_to_tag<PostCreated>, const json::value& v) {
    const auto& o = as_object(v, PostCreated::subject);
    return {.id = get_string(o, "id"), .title = get_string(o, "title")};
}

void tag_invoke(json::value_from_tag, json::value& v, const CommentCreated& e) {
    v = json::object{
        {"id", e.id}, {"postId", e.post_id}, {"content", e.content}, {"status", to_text(e.status)}};
}

CommentCreated tag_invoke(json::value_to_tag<CommentCreated>, const json::value& v) {
    const auto& o = as_object(v, CommentCreated::subject);
    return {.id = get_string(o, "id"),
            .post_id = get_string(o, "postId"),
            .content = get_string(o, "content"),
            .status = status_from_text(get_string(o, "status"))};
}

void tag_invoke(json::value_from_tag, json::value& v, const CommentModerated& e) {
    v = json::object{{"id", e.id}, {"postId", e.post_id}, {"status", to_text(e.status)}};
}

CommentModerated tag_invoke(json::value_to_tag<CommentModerated>, const json::value& v) {
    const auto& o = as_object(v, CommentModerated::subject);
    return {.id = get_string(o, "id"),
            .post_id = get_string(o, "postId"),
            .status = status_from_text(get_string(o, "status"))};
}

void tag_invoke(json::value_from_tag, json::value& v, const CommentUpdated& e) {
    v = json::object{
        {"id", e.id}, {"postId", e.post_id}, {"content", e.content}, {"status", to_text(e.status)}};
}

CommentUpdated tag_invoke(json::value_to_tag<CommentUpdated>, const json::value& v) {
    const auto& o = as_object(v, CommentUpdated::subject);
    return {.id = get_string(o, "id"),
            .post_id = get_string(o, "postId"),
            .content = get_string(o, "content"),
            .status = status_from_text(get_string(o, "status"))};
}

}  // namespace blog::events

namespace ticketd::events {
using namespace blog::events;
template std::string encode(const PostCreated&);
template PostCreated decode<PostCreated>(std::string_view);
template std::string encode(const CommentCreated&);
template CommentCreated decode<CommentCreated>(std::string_view);
template std::string encode(const CommentModerated&);
template CommentModerated decode<CommentModerated>(std::string_view);
template std::string encode(const CommentUpdated&);
template CommentUpdated decode<CommentUpdated>(std::string_view);
}  // namespace ticketd::events
