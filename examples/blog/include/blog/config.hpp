#pragma once
// The blog's settings: the core's (host/host_config.hpp), on the course's posts port, plus its
// own. `blog --help` prints the table src/config.cpp defines.
#include <string>
#include <vector>

#include "host/host_config.hpp"

namespace blog {

struct Config : ticketd::host::HostConfig {
    Config() {
        port = 4000;
        data_dir = "./blog-data";
    }
    // A comment containing one of these, as a case-insensitive substring, is rejected.
    std::vector<std::string> banned_words = {"orange"};
    // A comment (or GET of comments) waits this long for a post created a moment ago to reach
    // the comments module through the bus before answering 404.
    int post_wait_ms = 1000;
};

// posts, comments, moderation, query: the module names, in build order.
const std::vector<std::string>& module_names();

// Every option of the blog: the core's, then its own.
const std::vector<ticketd::host::Option>& options();

}  // namespace blog
