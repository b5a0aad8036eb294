// `omegac attest`: show and verify SEV-SNP reports, and per-principal inclusion proofs (docs/attestation.md).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace omega::omegac {

class AttestCommands {
public:
    // Adds `attest` and its subcommands to `app`.
    void add(CLI::App& app);
    // Runs the subcommand the command line chose: its exit status, or nothing when `attest` was not chosen.
    std::optional<int> run() const;

private:
    int runShow() const;
    int runVerify() const;
    int runProve() const;
    int runCheckModule() const;

    CLI::App* attest_ = nullptr;
    CLI::App* show_ = nullptr;
    CLI::App* verify_ = nullptr;
    CLI::App* prove_ = nullptr;
    CLI::App* checkModule_ = nullptr;

    std::string report_, evidence_, bundle_, nonce_, logHead_, gpuEvidence_, at_, minTcb_, format_ = "text";
    std::string principal_, proof_, output_;
    std::vector<std::string> chain_, trustArk_, sources_;
    bool noDebug_ = false;
    std::optional<std::uint32_t> maxVmpl_;
};

}  // namespace omega::omegac
