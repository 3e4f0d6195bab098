// Linux calls Swift cannot make itself (prctl is variadic; ppoll is a GNU extension that
// Swift's Glibc module does not declare).
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// Sets the calling thread's timer slack: how late the kernel may wake it from a sleep
// (50 µs by default), to let it batch wake-ups.
static inline int jointops_set_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0);
}

// poll with a timeout in nanoseconds (poll's is in milliseconds): ppoll, no signal mask.
static inline int jointops_poll_nanoseconds(struct pollfd *descriptors, unsigned long count, long nanoseconds) {
    struct timespec timeout = {nanoseconds / 1000000000L, nanoseconds % 1000000000L};
    return (int)syscall(SYS_ppoll, descriptors, count, &timeout, (void *)0, (size_t)8);
}
