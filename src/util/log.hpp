#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace ticketd::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

// Process-wide logging settings; set once at start-up, before threads start.
void configure(Level min_level, Format format);
bool parse_level(std::string_view text, Level& out);
bool parse_format(std::string_view text, Format& out);

// A key/value pair attached to a log line. Values are written verbatim in text mode and as JSON
// strings in json mode. Never pass secrets, passwords or whole tokens.
using Field = std::pair<std::string_view, std::string>;

// Writes one line to stderr: `2026-11-23T10:00:00.123Z INFO message key=value ...` or one JSON
// object per line. Thread-safe: lines never interleave.
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::error, m, f);
}
bool enabled(Level level);

}  // namespace ticketd::log
