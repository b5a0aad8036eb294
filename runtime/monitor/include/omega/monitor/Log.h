// The monitor's decision log is omega_log's Writer: logTo() adapts one to Options::log.
#pragma once

#include "omega/monitor/Monitor.h"

namespace omega::log {
class Writer;
}

namespace omega::monitor {

// A sink that appends to `writer` (which must outlive every monitor using the sink).
LogSink logTo(log::Writer& writer);
// Its head, for Options::logHead.
LogHeadSource headOf(log::Writer& writer);

}  // namespace omega::monitor
