#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "app/app.hpp"
#include "http/router.hpp"
#include "support/test_server.hpp"

using namespace ticketd;

namespace {

// (METHOD, /path/{param}) pairs read from docs/openapi.yaml: paths are two-space keys under
// `paths:`, methods four-space keys under them.
std::set<std::pair<std::string, std::string>> spec_operations() {
    std::ifstream file(std::string(TICKETD_SOURCE_DIR) + "/docs/openapi.yaml");
    std::set<std::pair<std::string, std::string>> ops;
    std::string line, path;
    bool in_paths = false;
    std::regex path_re(R"(^  (/[^:]*):\s*$)"), method_re(R"(^    (get|put|post|delete|patch):)");
    std::smatch m;
    while (std::getline(file, line)) {
        if (line == "paths:") in_paths = true;
        if (!in_paths) continue;
        if (std::regex_match(line, m, path_re))
            path = m[1];
        else if (std::regex_search(line, m, method_re)) {
            std::string method = m[1];
            for (auto& c : method) c = static_cast<char>(std::toupper(c));
            ops.emplace(method, path);
        }
    }
    return ops;
}

}  // namespace

TEST_CASE("docs/openapi.yaml lists exactly the routes the server serves", "[docs]") {
    App app(test::test_config(":memory:"));
    std::set<std::pair<std::string, std::string>> served;
    for (const auto& r : app.router().routes())
        served.emplace(r.method, std::regex_replace(r.pattern, std::regex(":([A-Za-z]+)"), "{$1}"));
    auto documented = spec_operations();
    REQUIRE(documented.size() > 10);
    for (const auto& op : served) {
        INFO("served but not in openapi.yaml: " << op.first << " " << op.second);
        CHECK(documented.count(op) == 1);
    }
    for (const auto& op : documented) {
        INFO("in openapi.yaml but not served: " << op.first << " " << op.second);
        CHECK(served.count(op) == 1);
    }
}
