#pragma once
// The moderation module decides each new comment (comment:created): `rejected` if it contains a
// banned word (--banned-words, a case-insensitive substring, as in the course), else `approved`.
// It records the decision (moderation.db) and publishes comment:moderated in one transaction.
#if defined(TICKETD_IN_A_MODULE) && !defined(TICKETD_IN_MODULE_moderation)
#error "a module includes only its own headers: modules talk through events"
#endif

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/module.hpp"

namespace blog::moderation {

// The first of `banned` that `content` contains, ignoring ASCII case; nullopt if none.
std::optional<std::string> banned_word_in(std::string_view content,
                                          const std::vector<std::string>& banned);

std::unique_ptr<ticketd::Module> make_module(const ticketd::ModuleContext& ctx);

}  // namespace blog::moderation
