// Writes a generated policy of N rules to stdout, for timing the whole `omegac check` command.
#include "GeneratePolicy.h"

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    int rules = argc > 1 ? std::atoi(argv[1]) : 10000;
    if (rules <= 0) {
        std::cerr << "usage: gen_policy RULES\n";
        return 2;
    }
    std::cout << omega::bench::generatePolicy(rules);
    return 0;
}
