/* suspendedMs for Node: CLOCK_BOOTTIME − CLOCK_MONOTONIC, the time the system has spent suspended since boot. */
#include "lw_native.h"
#include <time.h>

#ifndef CLOCK_BOOTTIME
#define CLOCK_BOOTTIME 7
#endif

static double ms_of(const struct timespec *t) { return (double)t->tv_sec * 1000.0 + (double)t->tv_nsec / 1e6; }

/* suspendedMs(): number -> ms suspended since boot (both clocks read back to back: the difference moves only while the
 * system sleeps; lxcfs cannot virtualise it, unlike /proc/uptime), or -1 when a clock cannot be read. */
napi_value lw_suspended_ms(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec mono, boot;
  double ms = -1;
  if (clock_gettime(CLOCK_MONOTONIC, &mono) == 0 && clock_gettime(CLOCK_BOOTTIME, &boot) == 0) ms = ms_of(&boot) - ms_of(&mono);
  napi_value out;
  napi_create_double(env, ms, &out);
  return out;
}
