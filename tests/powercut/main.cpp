// ticketd with the power-cut simulator under SQLite (see undo_vfs.hpp): the binary the chaos
// test's power-cut mode runs, so that a SIGKILL can be turned into a power cut afterwards.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "app/cli.hpp"
#include "powercut/undo_vfs.hpp"

extern char** environ;

int main(int argc, char** argv) {
    // The settings ticketd makes itself, before registering a VFS initializes SQLite.
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    ticketd::test::install_undo_vfs();
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    return ticketd::run_cli(argc, argv, env);
}
