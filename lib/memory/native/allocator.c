/*
 * spillway's allocator helper: the two glibc calls the memory governor needs and Node does not
 * offer (lib/memory/allocator.ts loads it; lib/memory/native/build.mjs builds it on install).
 *
 * - tune(bytes): mallopt(M_MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD). glibc starts with a
 *   128 KB mmap threshold but raises it (up to 32 MB) each time a large mmapped block is freed,
 *   so after a few batches every buffer comes from the arenas, which are trimmed only from the
 *   top and keep freed memory as RSS. Fixing the threshold keeps large buffers in mmaps that go
 *   back to the system when freed.
 * - trim(): malloc_trim(0), which returns the free pages anywhere in the arenas.
 *
 * Elsewhere than glibc both are no-ops that return false.
 */
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value to_boolean(napi_env env, int value) {
  napi_value out;
  napi_get_boolean(env, value != 0, &out);
  return out;
}

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
#if defined(__GLIBC__)
  return to_boolean(env, malloc_trim(0));
#else
  return to_boolean(env, 0);
#endif
}

static napi_value tune(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t bytes = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int64(env, argv[0], &bytes) != napi_ok || bytes <= 0 || bytes > (1 << 30))
    return to_boolean(env, 0);
#if defined(__GLIBC__)
  return to_boolean(env, mallopt(M_MMAP_THRESHOLD, (int)bytes) && mallopt(M_TRIM_THRESHOLD, (int)bytes));
#else
  return to_boolean(env, 0);
#endif
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn);
  napi_set_named_property(env, exports, "trim", fn);
  napi_create_function(env, "tune", NAPI_AUTO_LENGTH, tune, NULL, &fn);
  napi_set_named_property(env, exports, "tune", fn);
  return exports;
}
