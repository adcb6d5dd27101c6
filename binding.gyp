# node-gyp build of the native kernels: build/Release/advlab_native.node. The kernel bodies
# (native/kernels_impl.h) are compiled once per instruction set, each in its own static library
# with its own flags; native/addon.cc (baseline flags) checks the arguments and picks one at load.
{
  "variables": {
    # Every kernel build: IEEE float32 arithmetic as written (no contraction into FMA behind the
    # code's back: the FMA builds call it explicitly), no errno from the math functions.
    "kernel_flags": ["-O3", "-fno-strict-aliasing", "-ffp-contract=off", "-fno-math-errno", "-fPIC"],
  },
  "target_defaults": {
    "cflags_cc": ["-std=gnu++17", "-fno-strict-aliasing", "-ffp-contract=off", "-fno-math-errno"],
    "cflags_cc!": ["-std=gnu++14", "-std=gnu++1y"],
    "xcode_settings": {
      "CLANG_CXX_LANGUAGE_STANDARD": "gnu++17",
      "GCC_OPTIMIZATION_LEVEL": "3",
      "OTHER_CPLUSPLUSFLAGS": ["-fno-strict-aliasing", "-ffp-contract=off", "-fno-math-errno"],
    },
    "defines": ["NAPI_VERSION=8"],
  },
  "targets": [
    {
      "target_name": "advlab_native",
      "sources": ["native/addon.cc", "native/draws.cc"],
      "conditions": [
        ['target_arch=="x64"', {"dependencies": ["advlab_avx512", "advlab_avx2", "advlab_sse2"]}],
        ['target_arch=="arm64"', {"dependencies": ["advlab_neon"]}],
        ['target_arch!="x64" and target_arch!="arm64"', {"dependencies": ["advlab_generic"]}],
      ],
    },
  ],
  "conditions": [
    ['target_arch=="x64"', {
      "targets": [
        {
          "target_name": "advlab_avx512",
          "type": "static_library",
          "sources": ["native/isa_avx512.cc", "native/draws_avx512.cc"],
          "cflags_cc": ["<@(kernel_flags)", "-mavx512f", "-mavx512vl", "-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(kernel_flags)", "-mavx512f", "-mavx512vl", "-mavx2", "-mfma"]},
        },
        {
          "target_name": "advlab_avx2",
          "type": "static_library",
          "sources": ["native/isa_avx2.cc"],
          "cflags_cc": ["<@(kernel_flags)", "-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(kernel_flags)", "-mavx2", "-mfma"]},
        },
        {
          "target_name": "advlab_sse2",
          "type": "static_library",
          "sources": ["native/isa_sse2.cc"],
          "cflags_cc": ["<@(kernel_flags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(kernel_flags)"]},
        },
      ],
    }],
    ['target_arch=="arm64"', {
      "targets": [
        {
          "target_name": "advlab_neon",
          "type": "static_library",
          "sources": ["native/isa_neon.cc"],
          "cflags_cc": ["<@(kernel_flags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(kernel_flags)"]},
        },
      ],
    }],
    ['target_arch!="x64" and target_arch!="arm64"', {
      "targets": [
        {
          "target_name": "advlab_generic",
          "type": "static_library",
          "sources": ["native/isa_generic.cc"],
          "cflags_cc": ["<@(kernel_flags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(kernel_flags)"]},
        },
      ],
    }],
  ],
}
