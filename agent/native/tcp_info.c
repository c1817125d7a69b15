/* tcp_info for Node: getsockopt(TCP_INFO) of a socket fd into a Float64Array (kernel per-connection counters). */
#include "lw_native.h"
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#ifndef TCP_INFO
#define TCP_INFO 11
#endif

/* The kernel's struct tcp_info (include/uapi/linux/tcp.h) up to tcpi_rcv_ooopack, spelled out so the build does not
 * depend on how new the system headers are: the layout is append-only ABI, and getsockopt reports how much of it the
 * running kernel filled (older kernels fill less; fields past that length are reported as -1). */
struct lw_tcp_info {
  uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
  uint32_t rto, ato, snd_mss, rcv_mss;
  uint32_t unacked, sacked, lost, retrans, fackets;
  uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
  uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
  uint32_t rcv_rtt, rcv_space;
  uint32_t total_retrans;
  uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
  uint32_t segs_out, segs_in;
  uint32_t notsent_bytes, min_rtt, data_segs_in, data_segs_out;
  uint64_t delivery_rate;
  uint64_t busy_time, rwnd_limited, sndbuf_limited;
  uint32_t delivered, delivered_ce;
  uint64_t bytes_sent, bytes_retrans;
  uint32_t dsack_dups, reord_seen;
  uint32_t rcv_ooopack;
};
_Static_assert(offsetof(struct lw_tcp_info, bytes_received) == 128, "tcp_info layout");
_Static_assert(offsetof(struct lw_tcp_info, rcv_ooopack) == 224, "tcp_info layout");

/* Order of the values written to the caller's Float64Array (probes/tcp-info.ts mirrors it). */
#define FIELD(name) { offsetof(struct lw_tcp_info, name), sizeof(((struct lw_tcp_info *)0)->name) }
static const struct { size_t off, size; } FIELDS[] = {
  FIELD(bytes_received), FIELD(bytes_acked), FIELD(segs_in), FIELD(data_segs_in), FIELD(last_data_recv),
  FIELD(rtt), FIELD(rcv_rtt), FIELD(total_retrans), FIELD(rcv_ooopack), FIELD(snd_cwnd), FIELD(state), FIELD(rcv_mss),
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

/* tcpInfo(fd: number, out: Float64Array): number -> fields written (NFIELDS) or -errno */
napi_value lw_tcp_info(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], out;
  int32_t fd = -1;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  int32_t rc;

  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, args[0], &fd) != napi_ok ||
      napi_get_typedarray_info(env, args[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < NFIELDS) {
    napi_throw_type_error(env, NULL, "tcpInfo(fd, out) takes a socket fd and a Float64Array of at least 12");
    return NULL;
  }
  struct lw_tcp_info ti;
  socklen_t len = sizeof ti;
  memset(&ti, 0, sizeof ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) {
    rc = -errno;
  } else {
    double *o = (double *)data;
    for (size_t i = 0; i < NFIELDS; i++) {
      const char *p = (const char *)&ti + FIELDS[i].off;
      if (FIELDS[i].off + FIELDS[i].size > len) o[i] = -1;
      else if (FIELDS[i].size == 8) { uint64_t v; memcpy(&v, p, 8); o[i] = (double)v; }
      else if (FIELDS[i].size == 4) { uint32_t v; memcpy(&v, p, 4); o[i] = (double)v; }
      else o[i] = (double)*(const uint8_t *)p;
    }
    rc = (int32_t)NFIELDS;
  }
  napi_create_int32(env, rc, &out);
  return out;
}
