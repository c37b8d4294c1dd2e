{
  "targets": [
    {
      "target_name": "icnn_native",
      "sources": [
        "src/adam.cc",
        "src/addon.cc",
        "src/conv.cc",
        "src/gated_path.cc",
        "src/gemm.cc",
        "src/kernel_avx512.cc",
        "src/kernel_avx2.cc",
        "src/kernel_generic.cc",
        "src/pack.cc",
        "src/reduce.cc",
        "src/soft_update.cc",
        "src/thread_pool.cc"
      ],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
