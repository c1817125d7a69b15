/* mallocTrim for Node: glibc's malloc_trim(0), which returns free pages inside the malloc heap to the kernel. */
#include <node_api.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* mallocTrim(): number -> 1 if memory was released, 0 if none could be, -1 where the C library has no malloc_trim (musl). */
static napi_value MallocTrim(napi_env env, napi_callback_info info) {
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

/* Registers mallocTrim on the addon's exports (called from sd_notify.c's module init). */
napi_value lw_register_malloc_trim(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "mallocTrim", NAPI_AUTO_LENGTH, MallocTrim, NULL, &fn);
  napi_set_named_property(env, exports, "mallocTrim", fn);
  return exports;
}
