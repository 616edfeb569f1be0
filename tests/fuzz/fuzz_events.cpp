// libFuzzer: bytes as the JSON payload of every event contract. Decoding either yields an event
// that encodes back to JSON that decodes to the same encoding, or throws; it never crashes.
#include <cstdlib>

#include <boost/json.hpp>

#include "ticketd/events/all.hpp"

using namespace ticketd::events;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    boost::system::error_code ec;
    auto v = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
    if (ec) return 0;
    for_each_contract([&]<class E>() {
        try {
            E e = boost::json::value_to<E>(v);
            auto once = boost::json::serialize(boost::json::value_from(e));
            auto twice = boost::json::serialize(
                boost::json::value_from(boost::json::value_to<E>(boost::json::parse(once))));
            if (once != twice) std::abort();
        } catch (const std::invalid_argument&) {
        }
    });
    return 0;
}
