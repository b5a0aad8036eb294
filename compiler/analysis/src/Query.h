// Private: asking Z3 within time limits, and choosing a readable witness among the models of a query.
#pragma once

#include "Encoder.h"

#include <z3++.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace omega::analysis {

enum class Answer { Sat, Unsat, Unknown };

// The per-query limit and the total budget: each query gets the smaller of its limit and what is left.
class Budget {
    using Clock = std::chrono::steady_clock;

public:
    Budget(unsigned timeoutMs, unsigned budgetMs)
        : timeoutMs_(timeoutMs),
          limited_(budgetMs > 0),
          deadline_(Clock::now() + std::chrono::milliseconds(budgetMs)) {}
    // Milliseconds for the next query; 0 once the budget is spent.
    unsigned next() const {
        if (!limited_) return timeoutMs_;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
        return left <= 0 ? 0 : static_cast<unsigned>(std::min<long long>(left, timeoutMs_));
    }

private:
    unsigned timeoutMs_;
    bool limited_;
    Clock::time_point deadline_;
};

// Checks the solver's assertions (and `assumptions`) within the budget. Never throws: a Z3 exception (out of
// memory, an internal limit) is no answer, and no answer is never a claim.
inline Answer check(z3::solver& solver, const Budget& budget, const z3::expr_vector* assumptions = nullptr) {
    const unsigned ms = budget.next();
    if (ms == 0) return Answer::Unknown;
    try {
        z3::params params(solver.ctx());
        params.set("timeout", ms);
        solver.set(params);
        switch (assumptions ? solver.check(*assumptions) : solver.check()) {
            case z3::sat: return Answer::Sat;
            case z3::unsat: return Answer::Unsat;
            case z3::unknown: return Answer::Unknown;
        }
    } catch (const z3::exception&) {
    }
    return Answer::Unknown;
}

// After a satisfiable check: a model of the same assertions that keeps as many of the encoders' preferences as a
// few rounds find (sets empty, optional fields absent, counters at zero), so a witness shows only what the finding
// needs. Each preference is assumed through a fresh Boolean (assumptions must be literals); each round drops the
// preferences of an unsatisfiable core. The first model stands if the rounds run out.
inline z3::model readableModel(z3::solver& solver, const Budget& budget, const std::vector<z3::expr>& preferences) {
    z3::model fallback = solver.get_model();
    if (preferences.empty()) return fallback;
    z3::context& ctx = solver.ctx();
    solver.push();
    z3::expr_vector wanted(ctx);
    for (std::size_t i = 0; i < preferences.size(); ++i) {
        z3::expr proxy = ctx.bool_const(("prefer#" + std::to_string(i)).c_str());
        solver.add(z3::implies(proxy, preferences[i]));
        wanted.push_back(proxy);
    }
    std::optional<z3::model> best;
    for (int round = 0; round < 4 && !best; ++round) {
        const Answer answer = check(solver, budget, &wanted);
        if (answer == Answer::Sat) best = solver.get_model();
        if (answer != Answer::Unsat) break;
        const z3::expr_vector core = solver.unsat_core();
        z3::expr_vector rest(ctx);
        for (unsigned i = 0; i < wanted.size(); ++i) {
            bool inCore = false;
            for (unsigned j = 0; j < core.size() && !inCore; ++j) inCore = z3::eq(wanted[i], core[j]);
            if (!inCore) rest.push_back(wanted[i]);
        }
        if (rest.size() == wanted.size()) break;
        wanted = rest;
    }
    solver.pop();
    return best ? *best : fallback;
}

}  // namespace omega::analysis
