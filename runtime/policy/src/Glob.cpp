// Glob matching (Glob.h).
#include "omega/policy/Glob.h"

#include <string>
#include <vector>

namespace omega::policy {

namespace {

// Decodes UTF-8 leniently (the request decoder has already rejected invalid text; a malformed tail still decodes
// to something, never reads past the end).
std::u32string codePoints(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (std::size_t k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
        out.push_back(cp);
        i += len;
    }
    return out;
}

// p[at] is '['; moves `at` past the class and says whether `c` is in it.
bool inClass(const std::u32string& p, std::size_t& at, char32_t c) {
    std::size_t i = at + 1;
    bool ok = false;
    while (i < p.size() && p[i] != U']') {
        if (i + 2 < p.size() && p[i + 1] == U'-' && p[i + 2] != U']') {
            if (c >= p[i] && c <= p[i + 2]) ok = true;
            i += 3;
        } else {
            if (c == p[i]) ok = true;
            ++i;
        }
    }
    at = i + 1;
    return ok;
}

}  // namespace

bool globMatch(std::string_view pattern, std::string_view text) {
    const std::u32string p = codePoints(pattern);
    const std::u32string t = codePoints(text);
    std::size_t pi = 0, ti = 0, starP = std::u32string::npos, starT = 0;
    while (ti < t.size()) {
        if (pi < p.size() && p[pi] == U'*') {
            starP = pi++;
            starT = ti;
            continue;
        }
        if (pi < p.size()) {
            std::size_t next = pi + 1;
            bool ok = false;
            if (p[pi] == U'?') {
                ok = true;
            } else if (p[pi] == U'[') {
                next = pi;
                ok = inClass(p, next, t[ti]);
            } else {
                ok = p[pi] == t[ti];
            }
            if (ok) {
                pi = next;
                ++ti;
                continue;
            }
        }
        if (starP == std::u32string::npos) return false;
        pi = starP + 1;
        ti = ++starT;
    }
    while (pi < p.size() && p[pi] == U'*') ++pi;
    return pi == p.size();
}

}  // namespace omega::policy
