#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/embedded_file.hpp"

namespace ticketd::db {

// One numbered migration: schema/<set>/<NNN>_<name>.sql.
struct Migration {
    std::string set;
    int version = 0;
    std::string name;
    std::string_view sql;
};

// The core's own schema sets (schema/bus, schema/outbox), compiled in by cmake/embed.cmake.
std::span<const EmbeddedFile> core_schema_files();

// The migrations of one schema set, from the core's files and `app_files` (an application's
// schema/, embedded the same way), in version order. Throws std::logic_error for a file whose
// name is not NNN_name.sql or a version used twice.
std::vector<Migration> migrations_for(std::string_view set,
                                      std::span<const EmbeddedFile> app_files = {});

}  // namespace ticketd::db
