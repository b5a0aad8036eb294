// Glob matching as the language defines it (docs/language.md): `*` any run of characters, `?` one character,
// `[a-z0-9]` one character of a class; over code points, no escapes. Shared by the runtime's glob helper and the
// reference evaluator so both mean the same thing by a pattern.
#pragma once

#include <string_view>

namespace omega::policy {

// Linear in practice: backtracks only to the last `*` seen, never recursively.
bool globMatch(std::string_view pattern, std::string_view text);

}  // namespace omega::policy
