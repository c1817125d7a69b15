/* The addon's functions, one C file each; sd_notify.c's module init exports them by name (napi_define_properties). */
#ifndef LW_NATIVE_H
#define LW_NATIVE_H
#include <node_api.h>

napi_value lw_notify(napi_env env, napi_callback_info info);      /* sd_notify.c */
napi_value lw_tcp_info(napi_env env, napi_callback_info info);    /* tcp_info.c */
napi_value lw_malloc_trim(napi_env env, napi_callback_info info); /* malloc_trim.c */
napi_value lw_suspended_ms(napi_env env, napi_callback_info info); /* suspended.c */

#endif
