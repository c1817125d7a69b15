{
  "targets": [
    {
      "target_name": "lw_native",
      "sources": ["sd_notify.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
