/*
 * bench.h - clocks shared by the bench programs: wall time and this process's CPU time.
 *
 * Header-only (each bench is one program); never used by the library or the tests.
 */
#ifndef DEFTER_BENCH_H
#define DEFTER_BENCH_H

#include <time.h>

/* Seconds on a monotonic clock. */
static inline double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process, all threads: steadier than wall time on a shared machine. */
static inline double
bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
