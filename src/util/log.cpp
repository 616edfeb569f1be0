#include "util/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "util/time_format.hpp"

namespace ticketd::log {
namespace {

std::atomic<Level> min_level_{Level::info};
std::atomic<Format> format_{Format::text};
std::mutex write_mutex_;

std::string_view level_name(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

// Text values with spaces or quotes are quoted so a line stays machine-splittable.
void append_text_value(std::string& out, std::string_view s) {
    bool plain = !s.empty() && s.find_first_of(" \"=\n\t") == std::string_view::npos;
    if (plain) {
        out += s;
    } else {
        append_json_string(out, s);
    }
}

}  // namespace

void configure(Level min_level, Format format) {
    min_level_ = min_level;
    format_ = format;
}

bool parse_level(std::string_view text, Level& out) {
    for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
        if (text == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

bool parse_format(std::string_view text, Format& out) {
    if (text == "text")
        out = Format::text;
    else if (text == "json")
        out = Format::json;
    else
        return false;
    return true;
}

bool enabled(Level level) { return level >= min_level_.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (!enabled(level)) return;
    std::string line;
    line.reserve(128);
    std::string ts = util::format_rfc3339_ms(util::SystemClock{}.now());
    if (format_.load(std::memory_order_relaxed) == Format::json) {
        line += "{\"time\":";
        append_json_string(line, ts);
        line += ",\"level\":";
        append_json_string(line, level_name(level));
        line += ",\"msg\":";
        append_json_string(line, message);
        for (const auto& [key, value] : fields) {
            line += ',';
            append_json_string(line, key);
            line += ':';
            append_json_string(line, value);
        }
        line += "}\n";
    } else {
        line += ts;
        line += ' ';
        line += level_name(level);
        line += ' ';
        line += message;
        for (const auto& [key, value] : fields) {
            line += ' ';
            line += key;
            line += '=';
            append_text_value(line, value);
        }
        line += '\n';
    }
    std::lock_guard lock(write_mutex_);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace ticketd::log
