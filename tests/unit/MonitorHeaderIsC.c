/* omega/monitor.h must be plain C: this file is compiled as C99 and calls every kind of entry point once. */
#include "omega/monitor.h"

int omega_monitor_header_is_c(omega_monitor* m) {
    omega_decision d;
    int verdict = omega_decide_json(m, "{}", 2, &d);
    omega_decision_free(&d);
    return verdict == OMEGA_ALLOW && omega_approval_wait(m, 1, 0) == OMEGA_APPROVAL_UNKNOWN;
}
