// libFuzzer target for the runtime's request decoder: any bytes, as a JSON document and as a request against a fixed
// hand-built image, must be read or refused with a message, never crash; what decodes must keep the decoder's
// promises (sorted names, sorted unique set items, every tool parameter given).
#include "../unit/PolicyTestImage.h"
#include "omega/policy/Json.h"
#include "omega/policy/JsonReader.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Visits every value of a document (depth is bounded by the reader, so recursion is too).
std::size_t walk(omega::policy::json::Value v, std::size_t depth) {
    if (depth > 64) std::abort();
    std::size_t n = 1;
    for (omega::policy::json::Value item : v.items()) {
        (void)item.key();
        (void)item.string();
        (void)item.integer();
        n += walk(item, depth + 1);
    }
    return n;
}

template <typename T>
bool sortedByName(const std::vector<std::pair<std::string, T>>& v) {
    return std::is_sorted(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const omega::policy::Image image = omega::test::makeTestImage();
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    omega::policy::json::Document doc;
    std::string error;
    if (doc.parse(text, error)) {
        walk(doc.root(), 1);
    } else if (error.empty()) {
        std::abort();  // a refusal must say why
    }

    omega::policy::Request request;
    error.clear();
    if (!omega::policy::decodeRequest(text, image, request, error)) {
        if (error.empty()) std::abort();
        (void)omega::policy::errorDecisionJson(error);
        return 0;
    }
    if (!sortedByName(request.args) || !sortedByName(request.fields) || !sortedByName(request.counts)) std::abort();
    for (const auto& list : {&request.args, &request.fields})
        for (const auto& [name, value] : *list)
            if (!std::is_sorted(value.items.begin(), value.items.end()) ||
                std::adjacent_find(value.items.begin(), value.items.end()) != value.items.end())
                std::abort();
    if (request.action == omega::schema::Action::Tool) {
        auto tool = std::find_if(image.tools.begin(), image.tools.end(),
                                 [&](const omega::policy::Tool& t) { return image.text(t.name) == request.target; });
        if (tool == image.tools.end() || tool->params.size() != request.args.size()) std::abort();
    }
    return 0;
}
