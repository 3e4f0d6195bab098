// An LD_PRELOAD library for tests: shifts one process's wall clock (CLOCK_REALTIME, and
// gettimeofday and time, which read it) by the seconds written in the file named by
// WALL_CLOCK_SHIFT_FILE, read again at most every 20 ms. The monotonic clocks are left
// alone, as an NTP step or `date -s` leaves them, and so is the machine's clock.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static _Atomic long long shift_ns;
static _Atomic long long read_at_ns = -1;

static long long monotonic_ns(void) {
    struct timespec now;
    real_clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void read_shift(void) {
    long long now = monotonic_ns();
    long long last = atomic_load(&read_at_ns);
    if (last >= 0 && now - last < 20000000LL) return;
    atomic_store(&read_at_ns, now);
    const char *path = getenv("WALL_CLOCK_SHIFT_FILE");
    FILE *file = path ? fopen(path, "r") : NULL;
    if (!file) return;
    double seconds = 0;
    if (fscanf(file, "%lf", &seconds) == 1) atomic_store(&shift_ns, (long long)(seconds * 1e9));
    fclose(file);
}

int clock_gettime(clockid_t clock, struct timespec *time) {
    if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    int result = real_clock_gettime(clock, time);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        read_shift();
        long long ns = (long long)time->tv_sec * 1000000000LL + time->tv_nsec + atomic_load(&shift_ns);
        time->tv_sec = ns / 1000000000LL;
        time->tv_nsec = ns % 1000000000LL;
        if (time->tv_nsec < 0) {
            time->tv_nsec += 1000000000LL;
            time->tv_sec -= 1;
        }
    }
    return result;
}

int gettimeofday(struct timeval *value, void *zone) {
    (void)zone;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (value) {
        value->tv_sec = now.tv_sec;
        value->tv_usec = now.tv_nsec / 1000;
    }
    return 0;
}

time_t time(time_t *out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (out) *out = now.tv_sec;
    return now.tv_sec;
}
