// The blog's entry point: the core's command line with the blog's application.
#include <string>
#include <vector>

#include "blog/app.hpp"

extern char** environ;

int main(int argc, char** argv) {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    return ticketd::host::run_cli(blog::application(), argc, argv, env);
}
