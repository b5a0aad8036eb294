// Monitor::attest (docs/attestation.md): the binding of the loaded policy into a report.
#include "Snapshot.h"
#include "omega/attest/Provider.h"
#include "omega/log/Log.h"
#include "omega/monitor/Monitor.h"
#include "omega/policy/Json.h"

namespace omega::monitor {

namespace {

std::string formatHead(std::uint64_t seq, const attest::Sha256& hash) {
    return log::formatHead(log::Head{seq, hash});
}

}  // namespace

std::string Attestation::json() const {
    std::string out = "{\"format\":\"omega-evidence-v1\",\"provider\":";
    policy::appendJsonString(out, provider);
    out += ",\"hardware\":";
    out += hardware ? "true" : "false";
    if (!hardware)
        out +=
            ",\"warning\":\"software evidence: signed by a local key, not by AMD hardware; it proves nothing about "
            "the platform\"";
    out += ",\"measurement\":\"" + attest::toHex(binding.measurement) + "\"";
    out += ",\"modules_root\":\"" + attest::toHex(binding.modulesRoot) + "\"";
    out += ",\"log_head\":\"" + formatHead(binding.logSeq, binding.logHash) + "\"";
    out += ",\"nonce\":\"" + attest::toHex(binding.nonce) + "\"";
    out += ",\"gpu_evidence\":";
    out += binding.gpuEvidence ? "\"" + attest::toHex(*binding.gpuEvidence) + "\"" : std::string("null");
    out += ",\"report_data\":\"" + attest::toHex(reportData) + "\"";
    out += ",\"generation\":" + std::to_string(generation);
    out += ",\"report\":\"" + attest::toHex(report) + "\"";
    out += ",\"certificates\":";
    policy::appendJsonString(out, certificates);
    out += "}";
    return out;
}

Result<Attestation> Monitor::attest(const attest::Nonce& nonce, attest::Provider& provider,
                                    const std::optional<attest::Sha384>& gpuEvidence) {
    // One snapshot for measurement and root, so that a reload in between cannot mix two bundles.
    const std::shared_ptr<const Snapshot> snap = current();
    if (!snap) return bundle::Error{"attest: no bundle is loaded"};
    Attestation a;
    a.generation = snap->generation;
    a.binding.measurement = snap->measurement.bytes;
    a.binding.modulesRoot = snap->modulesRoot;
    if (options_.logHead) {
        const LogHead head = options_.logHead();
        a.binding.logSeq = head.seq;
        a.binding.logHash = head.hash;
    }
    a.binding.nonce = nonce;
    a.binding.gpuEvidence = gpuEvidence;
    a.reportData = attest::reportData(a.binding);
    auto evidence = provider.report(a.reportData);
    if (!evidence) return bundle::Error{"attest: " + provider.name() + ": " + evidence.error()};
    a.report = std::move(evidence->report);
    a.certificates = std::move(evidence->certificates);
    a.provider = std::move(evidence->provider);
    a.hardware = evidence->hardware;
    // The record comes after the head it attests: the relying party checks the log up to that head, and this
    // record says, later in the same chain, who asked and what was bound.
    std::string event = "{\"event\":\"attest\",\"provider\":";
    policy::appendJsonString(event, a.provider);
    event += ",\"nonce\":\"" + attest::toHex(nonce) + "\",\"report_data\":\"" + attest::toHex(a.reportData) +
             "\",\"log_head\":\"" + formatHead(a.binding.logSeq, a.binding.logHash) + "\"}";
    std::string logError;
    log(LogEntry::Kind::Event, "", event, snap->measurement, logError);
    if (!logError.empty()) return bundle::Error{"attest: the decision log refused the record: " + logError};
    return a;
}

}  // namespace omega::monitor
