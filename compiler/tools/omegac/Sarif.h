// SARIF 2.1.0 output for `omegac lint`: one run whose results are the analyser's findings, for GitHub code scanning
// and other code-scanning viewers (docs/ci.md).
#pragma once

#include "omega/analysis/Analysis.h"
#include "omega/source/Source.h"

#include <filesystem>
#include <string>
#include <vector>

namespace omega::tools {

// A SARIF log (pretty-printed JSON, ending in a newline). Files under `srcRoot` (normally the current directory)
// are named relative to it with uriBaseId %SRCROOT%, other files by absolute file:// URIs.
std::string toSarif(const std::vector<analysis::Finding>& findings, const source::SourceManager& sm,
                    const std::string& toolVersion, const std::filesystem::path& srcRoot);

}  // namespace omega::tools
