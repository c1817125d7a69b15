{
  "targets": [
    {
      "target_name": "lw_native",
      "sources": ["sd_notify.c", "tcp_info.c", "malloc_trim.c", "suspended.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
