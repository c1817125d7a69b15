/* suspendedMs for Node: CLOCK_BOOTTIME − CLOCK_MONOTONIC, the time the system has spent suspended since boot. */
#include "lw_native.h"
#include <math.h>
#include <time.h>

#ifndef CLOCK_BOOTTIME
#define CLOCK_BOOTTIME 7
#endif

static double ms_of(const struct timespec *t) { return (double)t->tv_sec * 1000.0 + (double)t->tv_nsec / 1e6; }

/* A reading whose two monotonic reads lie further apart than this was preempted between them (its difference would
 * be off by the preemption): it is taken again. */
#define MAX_WINDOW_MS 1.0
#define TRIES 3

/* suspendedMs(): number -> ms suspended since boot (BOOTTIME between two MONOTONIC reads: the difference moves only while
 * the system sleeps; lxcfs cannot virtualise it, unlike /proc/uptime), or NaN when no clean reading could be taken. It
 * may be negative: a time namespace can offset BOOTTIME and MONOTONIC differently; only its changes are used. */
napi_value lw_suspended_ms(napi_env env, napi_callback_info info) {
  (void)info;
  double ms = NAN;
  for (int i = 0; i < TRIES; i++) {
    struct timespec m1, boot, m2;
    if (clock_gettime(CLOCK_MONOTONIC, &m1) != 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0 || clock_gettime(CLOCK_MONOTONIC, &m2) != 0) break;
    double a = ms_of(&m1), b = ms_of(&m2);
    if (b - a > MAX_WINDOW_MS) continue;
    ms = ms_of(&boot) - (a + b) / 2;
    break;
  }
  napi_value out;
  napi_create_double(env, ms, &out);
  return out;
}
