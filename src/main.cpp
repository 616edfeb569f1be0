// ticketd's entry point: everything happens in run_cli (src/app/cli.cpp).
#include <string>
#include <vector>

#include "app/cli.hpp"

extern char** environ;

int main(int argc, char** argv) {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    return ticketd::run_cli(argc, argv, env);
}
