/* Native addon for Node: sd_notify sends one datagram to $NOTIFY_SOCKET from this process (Node has no AF_UNIX SOCK_DGRAM); tcpInfo is in tcp_info.c, mallocTrim in malloc_trim.c. */
#include "lw_native.h"
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* notify(socketPath: string, message: string): number  -> 0 on success, -errno on failure */
napi_value lw_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  char msg[4096];
  size_t plen = 0, mlen = 0;
  napi_value out;
  int rc = 0;

  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "notify(socketPath, message) takes two strings");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, args[0], path, sizeof path, &plen) != napi_ok ||
      napi_get_value_string_utf8(env, args[1], msg, sizeof msg, &mlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "notify(socketPath, message) takes two strings");
    return NULL;
  }
  if (plen == 0 || plen >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    rc = -ENAMETOOLONG;
  } else {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, plen);
    if (path[0] == '@') sa.sun_path[0] = '\0'; /* abstract namespace */
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '@' ? 0 : 1));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      rc = -errno;
    } else {
      if (sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0) rc = -errno;
      close(fd);
    }
  }
  napi_create_int32(env, rc, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor fns[] = {
    {"notify", NULL, lw_notify, NULL, NULL, NULL, napi_enumerable, NULL},
    {"tcpInfo", NULL, lw_tcp_info, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mallocTrim", NULL, lw_malloc_trim, NULL, NULL, NULL, napi_enumerable, NULL},
    {"suspendedMs", NULL, lw_suspended_ms, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}
