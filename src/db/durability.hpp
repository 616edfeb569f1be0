#pragma once
// How far a commit survives (docs/operations.md, "Durability"): `normal` survives a crash of the
// process, and a power cut loses at most the last second; `full` also survives a power cut.
#include <string_view>

namespace ticketd::db {

enum class Durability { normal, full };

constexpr std::string_view to_string(Durability d) {
    return d == Durability::full ? "full" : "normal";
}

}  // namespace ticketd::db
