#include "db/migrations.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace ticketd::db {

std::vector<Migration> migrations_for(std::string_view set,
                                      std::span<const EmbeddedFile> app_files) {
    std::vector<Migration> out;
    auto add = [&](const EmbeddedFile& file) {
        auto slash = file.path.find('/');
        if (slash == std::string_view::npos || file.path.substr(0, slash) != set) return;
        std::string_view base = file.path.substr(slash + 1);
        auto underscore = base.find('_');
        int version = 0;
        auto [ptr, ec] =
            std::from_chars(base.data(), base.data() + std::min(underscore, base.size()), version);
        if (underscore == std::string_view::npos || ec != std::errc{} ||
            ptr != base.data() + underscore || !base.ends_with(".sql") || version <= 0)
            throw std::logic_error("bad migration file name: " + std::string(file.path));
        out.push_back({std::string(set), version,
                       std::string(base.substr(underscore + 1, base.size() - underscore - 5)),
                       file.data});
    };
    for (const auto& file : core_schema_files()) add(file);
    for (const auto& file : app_files) add(file);
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < out.size(); ++i)
        if (out[i].version == out[i - 1].version)
            throw std::logic_error("migration version used twice in schema/" + std::string(set));
    return out;
}

}  // namespace ticketd::db
