// `omega-gate pins`: a server's tools and their description hashes (toolHash in Guard.h), read through a minimal
// MCP client handshake (initialize, notifications/initialized, tools/list with every page).
#pragma once

#include "omega/gate/Config.h"

#include <string>
#include <utility>
#include <vector>

namespace omega::gate {

using Pins = std::vector<std::pair<std::string, std::string>>;  // tool name, "sha256:<hex>", in the server's order

Result<Pins> listPinsStdio(const std::vector<std::string>& command);  // starts the server, then stops it
Result<Pins> listPinsHttp(const std::string& url);                    // a Streamable HTTP server

}  // namespace omega::gate
