#include "blog/config.hpp"

#include <sstream>

namespace blog {

using ticketd::host::app_option;
using ticketd::host::parse_int;

const std::vector<std::string>& module_names() {
    static const std::vector<std::string> names = {"posts", "comments", "moderation", "query"};
    return names;
}

const std::vector<ticketd::host::Option>& options() {
    static const std::vector<ticketd::host::Option> table = [] {
        auto t = ticketd::host::host_options("BLOG_", module_names(), /*sessions=*/false);
        t.push_back(app_option<Config>(
            "--banned-words", "BLOG_BANNED_WORDS", "WORD[,WORD]",
            "moderation rejects a comment containing any of these (case-insensitive, anywhere in a "
            "word)",
            [](auto& c) {
                std::string out;
                for (auto& w : c.banned_words) out += (out.empty() ? "" : ",") + w;
                return out;
            },
            [](auto& c, auto& v) {
                c.banned_words.clear();
                std::stringstream in(v);
                for (std::string w; std::getline(in, w, ',');)
                    if (!w.empty()) c.banned_words.push_back(w);
            }));
        t.push_back(app_option<Config>(
            "--post-wait", "BLOG_POST_WAIT_MS", "MS",
            "how long a comment waits for a post created a moment ago to arrive through the bus "
            "before"
            " answering 404 (0: not at all)",
            [](auto& c) { return std::to_string(c.post_wait_ms); },
            [](auto& c, auto& v) { c.post_wait_ms = parse_int(v, 0, 60000); }));
        return t;
    }();
    return table;
}

}  // namespace blog
