{
  "targets": [
    {
      "target_name": "spillway_allocator",
      "sources": ["allocator.c"],
      "cflags": ["-O2"]
    }
  ]
}
