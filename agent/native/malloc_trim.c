/* mallocTrim for Node: glibc's malloc_trim(0), which returns free pages inside the malloc heap to the kernel. */
#include "lw_native.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* mallocTrim(): number -> 1 if memory was released, 0 if none could be, -1 where the C library has no malloc_trim (musl). */
napi_value lw_malloc_trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
#if defined(__GLIBC__)
  int rc = malloc_trim(0);
#else
  int rc = -1;
#endif
  napi_create_int32(env, rc, &out);
  return out;
}
