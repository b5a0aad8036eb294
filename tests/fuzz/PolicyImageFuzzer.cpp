// libFuzzer target for the policy image decoder, the runtime's untrusted-input path after the bundle container. The
// first byte picks the mode: even, the rest is a bundle file (bundle::decode, then fromSections); odd, the rest is
// a METADATA body alone, decoded with the other five sections of a fixed base image. Nothing may crash or trip a
// sanitizer; a rejection must name its section; whatever decodes must be valid and canonical (encoding it again
// gives exactly the input sections), and then goes through the rest of the loader: the verifier (Engine::make) and,
// when the code verifies, a decision per action. Seeds: tests/fuzz/seeds/policy-image (PolicySerializeTest writes
// them).
#include "../unit/PolicyTestImage.h"
#include "omega/bundle/Bundle.h"
#include "omega/policy/Engine.h"
#include "omega/policy/Serialize.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace omega;
using namespace omega::policy;

// Built once per process: a harness, not library code.
const std::vector<bundle::Section>& baseSections() {
    static const std::vector<bundle::Section> sections = [] {
        Image image = test::makeFuzzBaseImage();
        if (validate(image)) std::abort();
        return toSections(image);
    }();
    return sections;
}

bool namesItsSection(const std::string& message) {
    static constexpr std::string_view prefixes[] = {
        "STRINGS: ", "SETS: ", "MATCHERS: ", "LATTICE: ", "CODE: ", "METADATA: ", "SOURCES_MERKLE: "};
    for (std::string_view p : prefixes) {
        if (message.compare(0, p.size(), p) == 0) return true;
    }
    return false;
}

// An accepted image is valid and re-encodes to exactly `sections`; a rejection names its section.
void check(const bundle::Result<Image>& image, const std::vector<bundle::Section>& sections) {
    if (!image.ok()) {
        if (!namesItsSection(image.error())) std::abort();
        return;
    }
    if (validate(*image)) std::abort();
    if (toSections(*image) != sections) std::abort();
    // What the loader does next: verify the code against the image, and if it passes, decide requests with it
    // (one per action, by the first agent). A decision may be a deny with an error; it may not crash.
    auto engine = Engine::make(*image);
    if (!engine) return;
    for (unsigned a = 0; a < schema::kActionCount; ++a) {
        Request request;
        request.action = static_cast<schema::Action>(a);
        if (!image->agents.empty()) request.agent = image->strings[image->agents[0].name];
        request.recipient = request.agent;
        if (a == 0 && !image->tools.empty()) request.target = image->strings[image->tools[0].name];
        if ((a == 1 || a == 2) && !image->data.empty()) request.target = image->strings[image->data[0].name];
        Decision d = engine->decide(request);
        if (d.allow && !d.error.empty()) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::span<const std::uint8_t> rest(data + 1, size - 1);
    if (data[0] % 2 == 0) {
        bundle::Limits limits;
        limits.maxTotalSize = 1 << 20;
        auto file = bundle::decode(rest, limits);
        if (!file) return 0;
        check(fromSections(*file), file->sections());
    } else {
        std::vector<bundle::Section> sections = baseSections();
        sections.back().data.assign(rest.begin(), rest.end());  // METADATA is the last
        check(fromSections(sections), sections);
    }
    return 0;
}
