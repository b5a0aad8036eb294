// SourceManager storage, line lookup, UTF-8 validation and offset-to-position conversion.
#include "omega/source/Source.h"

#include <algorithm>

namespace omega::source {

FileId SourceManager::add(std::string path, std::string text) {
    SourceFile file{std::move(path), std::move(text), {0}};
    for (std::size_t i = 0; i < file.text.size(); ++i) {
        if (file.text[i] == '\n') file.lineStarts.push_back(static_cast<std::uint32_t>(i + 1));
    }
    files_.push_back(std::move(file));
    return static_cast<FileId>(files_.size() - 1);
}

std::string_view SourceManager::line(FileId id, std::uint32_t line) const {
    if (id >= files_.size()) return {};
    const SourceFile& f = files_[id];
    if (line == 0 || line > f.lineStarts.size()) return {};
    std::size_t begin = f.lineStarts[line - 1];
    std::size_t end = line < f.lineStarts.size() ? f.lineStarts[line] : f.text.size();
    std::string_view text(f.text);
    std::string_view result = text.substr(begin, end - begin);
    while (!result.empty() && (result.back() == '\n' || result.back() == '\r')) result.remove_suffix(1);
    return result;
}

std::optional<std::size_t> findInvalidUtf8(std::string_view text) {
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + len > n) return i;
        for (std::size_t k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return std::nullopt;
}

Position positionOf(const SourceFile& file, std::size_t offset) {
    if (offset > file.text.size()) offset = file.text.size();
    std::size_t lo = 0, hi = file.lineStarts.size();
    while (hi - lo > 1) {
        std::size_t mid = (lo + hi) / 2;
        if (file.lineStarts[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    std::uint32_t col = 1;
    for (std::size_t i = file.lineStarts[lo]; i < offset; ++i) {
        if ((static_cast<unsigned char>(file.text[i]) & 0xC0) != 0x80) ++col;
    }
    return {static_cast<std::uint32_t>(lo + 1), col};
}

}  // namespace omega::source

namespace omega::source {

std::optional<std::string> closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
    if (word.size() > 64) return std::nullopt;
    std::optional<std::string> best;
    std::size_t bestDistance = std::max<std::size_t>(1, word.size() / 3) + 1;
    std::vector<std::size_t> prev, cur;
    for (const std::string& c : candidates) {
        if (c.size() > 64 || c == word) continue;
        prev.assign(c.size() + 1, 0);
        cur.assign(c.size() + 1, 0);
        for (std::size_t j = 0; j <= c.size(); ++j) prev[j] = j;
        for (std::size_t i = 1; i <= word.size(); ++i) {
            cur[0] = i;
            for (std::size_t j = 1; j <= c.size(); ++j) {
                std::size_t sub = prev[j - 1] + (word[i - 1] == c[j - 1] ? 0 : 1);
                cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
            }
            std::swap(prev, cur);
        }
        if (prev[c.size()] < bestDistance) {
            bestDistance = prev[c.size()];
            best = c;
        }
    }
    return best;
}

}  // namespace omega::source
