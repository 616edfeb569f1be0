#pragma once
// The one rule for the blog's text fields (a post's title, a comment's content): trimmed, then
// counted in Unicode code points; missing, not a string or only whitespace is "required".
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace blog {

struct TextRule {
    std::string_view key;       // "title"
    std::string_view required;  // "Title is required"
    std::size_t max = 0;        // code points
    std::string_view too_long;  // "Title must be at most 200 characters"
};

// The field, trimmed; throws ApiError 400 naming the field when it breaks `rule`.
std::string text_field(const boost::json::object& body, const TextRule& rule);

}  // namespace blog
