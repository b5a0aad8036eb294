// omega_log_fixture: a test-only program for the lit tests of `omegac audit`. It writes decision logs with the real
// Writer, lists where their records are, and tampers with them (edit, delete, copy, swap, truncate, tear).
//   omega_log_fixture write LOG KEY.pem N [--rotate BYTES] [--crash] [--durable] [--hostile]
//                                         [--checkpoint-records N]   (default 4)
//   omega_log_fixture records LOG
//   omega_log_fixture tamper LOG (flip|delete|copy|swap|truncate|tear|sig) SEQ
#include "omega/log/Log.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using namespace omega;

int usage() {
    std::cerr << "usage: omega_log_fixture write LOG KEY.pem N [--rotate BYTES] [--crash] [--durable] [--hostile] "
                 "[--checkpoint-records N]\n"
                 "       omega_log_fixture records LOG\n"
                 "       omega_log_fixture tamper LOG (flip|delete|copy|swap|truncate|tear|sig) SEQ\n";
    return 2;
}

std::vector<std::uint8_t> readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void writeAll(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Fixed times and contents, so that `omegac audit show` prints the same entries on every run. `hostile` puts
// terminal escapes and a newline in the first request, as a client might.
int write(const std::string& path, const std::string& keyPath, int count, std::uint64_t rotate, bool crash,
          bool durable, bool hostile, std::uint32_t checkpointRecords) {
    std::ifstream in(keyPath);
    const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto key = bundle::loadPrivateKey(pem);
    if (!key) {
        std::cerr << "omega_log_fixture: " << key.error() << '\n';
        return 2;
    }
    log::WriterOptions options;
    options.path = path;
    options.key = *key;
    options.durable = durable;
    options.rotateBytes = rotate;
    options.checkpointMs = 0;
    options.checkpointRecords = checkpointRecords;
    auto writer = log::Writer::open(options);
    if (!writer) {
        std::cerr << "omega_log_fixture: " << writer.error() << '\n';
        return 2;
    }
    for (int i = 1; i <= count; ++i) {
        log::Entry e;
        e.kind = i % 5 == 0 ? log::Kind::Event : log::Kind::Decision;
        e.timeNs = 1767225600000000000 + static_cast<std::int64_t>(i) * 1000000;  // 2026-01-01T00:00:00Z + i ms
        if (e.kind == log::Kind::Decision) {
            e.request = R"({"action":"tool.call","agent":"agent-)" + std::to_string(i) + R"(","tool":"search"})";
            e.decision = i % 3 == 0 ? R"({"decision":"deny","rules":["no-search"]})"
                                    : R"({"decision":"allow","rules":["may-search"]})";
        } else {
            e.decision = R"({"event":"reload","bundle":"b)" + std::to_string(i) + R"("})";
        }
        e.measurement.fill(static_cast<std::uint8_t>(0xa0 + i % 16));
        if (hostile && i == 1) e.request = "{\"agent\":\"\x1b[2J\"}\n2 2026-01-01T00:00:00Z decision forged";
        auto seq = (*writer)->append(e);
        if (!seq) {
            std::cerr << "omega_log_fixture: " << seq.error() << '\n';
            return 2;
        }
    }
    if (crash) std::_Exit(0);  // no closing checkpoint, as if killed
    if (auto closed = (*writer)->close(); !closed) {
        std::cerr << "omega_log_fixture: " << closed.error() << '\n';
        return 2;
    }
    std::cout << log::formatHead((*writer)->head()) << '\n';
    return 0;
}

std::vector<log::Record> records(const std::string& path) {
    std::vector<log::Record> out;
    auto reader = log::Reader::open(path);
    if (!reader) return out;
    while (true) {
        auto next = (*reader)->next();
        if (!next || !*next) break;
        out.push_back(std::move(**next));
    }
    return out;
}

int tamper(const std::string& path, const std::string& op, std::uint64_t seq) {
    const auto all = records(path);
    std::size_t i = 0;
    while (i < all.size() && all[i].seq != seq) ++i;
    if (i == all.size()) {
        std::cerr << "omega_log_fixture: no record " << seq << '\n';
        return 2;
    }
    const log::Record& r = all[i];
    auto bytes = readAll(r.file);
    const auto at = static_cast<std::ptrdiff_t>(r.offset);
    const auto size = static_cast<std::ptrdiff_t>(r.size);
    std::vector<std::uint8_t> record(bytes.begin() + at, bytes.begin() + at + size);
    if (op == "flip") {
        bytes[static_cast<std::size_t>(at + size / 2)] ^= 0x01;
    } else if (op == "sig") {
        bytes[static_cast<std::size_t>(at + size - 32 - 10)] ^= 0x80;  // inside the signature, before the hash
    } else if (op == "delete") {
        bytes.erase(bytes.begin() + at, bytes.begin() + at + size);
    } else if (op == "copy") {  // a copy of the record inserted after the next one
        const auto after = at + size + static_cast<std::ptrdiff_t>(i + 1 < all.size() ? all[i + 1].size : 0);
        bytes.insert(bytes.begin() + after, record.begin(), record.end());
    } else if (op == "swap") {  // the record and the next one change places
        if (i + 1 == all.size() || all[i + 1].file != r.file) return 2;
        const auto nextSize = static_cast<std::ptrdiff_t>(all[i + 1].size);
        std::vector<std::uint8_t> next(bytes.begin() + at + size, bytes.begin() + at + size + nextSize);
        std::copy(next.begin(), next.end(), bytes.begin() + at);
        std::copy(record.begin(), record.end(), bytes.begin() + at + nextSize);
    } else if (op == "truncate") {  // cut at the record's start: a clean record boundary
        bytes.resize(static_cast<std::size_t>(at));
    } else if (op == "tear") {  // cut in the middle of the record, as a crash while writing leaves it
        bytes.resize(static_cast<std::size_t>(at + size / 2));
    } else {
        return usage();
    }
    writeAll(r.file, bytes);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() >= 4 && args[0] == "write") {
        std::uint64_t rotate = 64ull << 20;
        bool crash = false, durable = false, hostile = false;
        std::uint32_t checkpointRecords = 4;
        for (std::size_t i = 4; i < args.size(); ++i) {
            if (args[i] == "--rotate" && i + 1 < args.size()) {
                rotate = std::strtoull(args[++i].c_str(), nullptr, 10);
            } else if (args[i] == "--crash") {
                crash = true;
            } else if (args[i] == "--durable") {
                durable = true;
            } else if (args[i] == "--hostile") {
                hostile = true;
            } else if (args[i] == "--checkpoint-records" && i + 1 < args.size()) {
                checkpointRecords = static_cast<std::uint32_t>(std::strtoul(args[++i].c_str(), nullptr, 10));
            } else {
                return usage();
            }
        }
        return write(args[1], args[2], std::atoi(args[3].c_str()), rotate, crash, durable, hostile, checkpointRecords);
    }
    if (args.size() == 2 && args[0] == "records") {
        for (const auto& r : records(args[1])) {
            std::cout << r.seq << ' ' << log::kindName(r.kind) << ' ' << r.offset << ' ' << r.size << ' ' << r.file
                      << '\n';
        }
        return 0;
    }
    if (args.size() == 4 && args[0] == "tamper") {
        return tamper(args[1], args[2], std::strtoull(args[3].c_str(), nullptr, 10));
    }
    return usage();
}
