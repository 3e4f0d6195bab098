// Linux calls Swift cannot make itself (prctl is variadic).
#include <sys/prctl.h>

// Sets the calling thread's timer slack: how late the kernel may wake it from a sleep
// (50 µs by default), to let it batch wake-ups.
static inline int jointops_set_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0);
}
