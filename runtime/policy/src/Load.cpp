// Bundle loading (Load.h).
#include "omega/policy/Load.h"

#include "omega/bundle/Signing.h"
#include "omega/policy/Serialize.h"

namespace omega::policy {

Result<Loaded> load(std::span<const std::uint8_t> bytes, const LoadOptions& options) {
    auto bundle = bundle::decode(bytes, options.limits);
    if (!bundle) return bundle::Error{"bundle: " + bundle.error()};
    std::optional<bundle::KeyId> signer;
    if (!options.trusted.empty()) {
        auto key = bundle::verify(*bundle, options.trusted);
        if (!key) return bundle::Error{"signature: " + key.error()};
        signer = *key;
    }
    auto image = fromSections(*bundle);
    if (!image) return bundle::Error{"image: " + image.error()};
    auto engine = Engine::make(std::move(image).value());
    if (!engine) return bundle::Error{"code: " + engine.error()};
    return Loaded{bundle::measure(*bundle), signer, std::move(engine).value()};
}

}  // namespace omega::policy
