// Writes a generated policy of N rules to stdout, for timing whole `omegac` commands; `--scaled` grows the
// declarations with the rules (bench/GeneratePolicy.h, scaledPolicy).
#include "GeneratePolicy.h"

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    int rules = argc > 1 ? std::atoi(argv[1]) : 10000;
    const bool scaled = argc > 2 && std::string(argv[2]) == "--scaled";
    if (rules <= 0 || (argc > 2 && !scaled) || argc > 3) {
        std::cerr << "usage: gen_policy RULES [--scaled]\n";
        return 2;
    }
    std::cout << (scaled ? omega::bench::scaledPolicy(rules) : omega::bench::generatePolicy(rules));
    return 0;
}
