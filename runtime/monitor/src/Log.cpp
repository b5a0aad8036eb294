// Options::log over omega_log's Writer (Log.h).
#include "omega/monitor/Log.h"

#include "omega/log/Log.h"

namespace omega::monitor {

LogSink logTo(log::Writer& writer) {
    return [&writer](const LogEntry& e) -> Result<std::uint64_t> {
        log::Entry entry;
        entry.kind = static_cast<log::Kind>(e.kind);
        entry.timeNs = e.timeNs;
        entry.request = e.request;
        entry.decision = e.decision;
        entry.measurement = e.measurement.bytes;
        entry.requestDigest = e.requestDigest;
        return writer.append(entry);
    };
}

LogHeadSource headOf(log::Writer& writer) {
    return [&writer] {
        const log::Head h = writer.head();
        return LogHead{h.seq, h.hash};
    };
}

}  // namespace omega::monitor
