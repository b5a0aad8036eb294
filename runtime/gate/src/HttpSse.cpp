// Server-sent events: the incremental event-stream parser (HTML Living Standard, "Interpreting an event stream") and
// the formatter. Lines are processed straight from the caller's bytes; only a line split across feeds is copied.
#include "omega/gate/Http.h"

#include <limits>

namespace omega::gate::http {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool allDigits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// Appends `value` cut at its first CR or LF, which would otherwise end the field early and start another.
void appendField(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value.substr(0, value.find_first_of("\r\n"));
    out += '\n';
}

}  // namespace

SseParser::SseParser(std::size_t maxEventBytes) : max_(maxEventBytes) {}

void SseParser::line(std::string_view text, const std::function<void(Event&&)>& onEvent, bool& dispatched) {
    if (text.empty()) {
        if (!hasData_) {
            // No data: nothing is dispatched, and the event type is forgotten (a retry stays for the next event).
            current_.event.clear();
            current_.data.clear();
            eventBytes_ = 0;
            return;
        }
        current_.data.pop_back();  // the "\n" after the last data line
        current_.id = lastId_;
        Event e = std::move(current_);
        current_ = Event{};
        hasData_ = false;
        eventBytes_ = 0;
        dispatched = true;
        if (onEvent) onEvent(std::move(e));
        return;
    }
    if (text.front() == ':') return;  // a comment
    const std::size_t colon = text.find(':');
    const std::string_view field = text.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
        current_.data += value;
        current_.data += '\n';
        hasData_ = true;
        eventBytes_ += value.size() + 1;
    } else if (field == "event") {
        eventBytes_ += value.size();
        current_.event = std::string(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) {
            eventBytes_ += value.size();
            lastId_ = std::string(value);
        }
    } else if (field == "retry") {
        if (allDigits(value)) {
            std::uint64_t v = 0;
            for (char c : value) {
                v = v * 10 + static_cast<std::uint64_t>(c - '0');
                if (v > std::numeric_limits<std::uint32_t>::max()) return;  // beyond any sane delay: ignored
            }
            current_.retry = static_cast<std::uint32_t>(v);
        }
    }
    // Other fields are ignored, as the standard says.
}

Result<bool> SseParser::feed(std::string_view bytes, const std::function<void(Event&&)>& onEvent) {
    if (!error_.empty()) return Error{error_};
    std::string prefix;
    if (!started_) {
        // The BOM may itself arrive split; pending_ holds the part of it seen so far.
        std::size_t k = 0;
        while (k < bytes.size() && pending_.size() < kBom.size() && bytes[k] == kBom[pending_.size()])
            pending_ += bytes[k++];
        bytes.remove_prefix(k);
        if (pending_.size() == kBom.size()) {
            pending_.clear();
            started_ = true;
        } else if (bytes.empty()) {
            return false;
        } else {
            // Not a BOM after all: what looked like its start is the first line's.
            started_ = true;
        }
    }
    bool dispatched = false;
    // The same checks whether a line comes whole or in pieces: a complete line is measured before it is used, a
    // pending one after each feed, so the outcome never depends on how the stream was cut.
    const auto tooLarge = [this](std::size_t lineBytes) {
        if (eventBytes_ + lineBytes <= max_) return false;
        error_ = "a server-sent event larger than " + std::to_string(max_) + " bytes";
        return true;
    };
    std::size_t i = 0;
    if (afterCr_ && !bytes.empty()) {
        if (bytes.front() == '\n') i = 1;
        afterCr_ = false;
    }
    while (i < bytes.size()) {
        const std::size_t end = bytes.find_first_of("\r\n", i);
        if (end == std::string_view::npos) {
            pending_.append(bytes.substr(i));
            break;
        }
        if (pending_.empty()) {
            const std::string_view text = bytes.substr(i, end - i);
            if (tooLarge(text.size())) return Error{error_};
            line(text, onEvent, dispatched);
        } else {
            pending_.append(bytes.substr(i, end - i));
            const std::string whole = std::move(pending_);
            pending_.clear();
            if (tooLarge(whole.size())) return Error{error_};
            line(whole, onEvent, dispatched);
        }
        i = end + 1;
        if (bytes[end] == '\r') {
            if (i < bytes.size()) {
                if (bytes[i] == '\n') ++i;
            } else {
                afterCr_ = true;
            }
        }
    }
    if (tooLarge(pending_.size())) return Error{error_};
    return dispatched;
}

std::string formatEvent(const Event& e) {
    std::string out;
    out.reserve(e.data.size() + e.event.size() + e.id.size() + 32);
    if (!e.event.empty()) appendField(out, "event", e.event);
    if (!e.id.empty()) appendField(out, "id", e.id);
    if (e.retry) appendField(out, "retry", std::to_string(*e.retry));
    std::string_view data = e.data;
    while (true) {
        const std::size_t end = data.find_first_of("\r\n");
        appendField(out, "data", data.substr(0, end));
        if (end == std::string_view::npos) break;
        const std::size_t next =
            data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n' ? end + 2 : end + 1;
        data.remove_prefix(next);
    }
    out += '\n';
    return out;
}

}  // namespace omega::gate::http
