{
  "variables": {
    "use_openblas%": "0",
    "openblas_include%": "",
    "simd_flags%": ""
  },
  "targets": [
    {
      "target_name": "distillery_native",
      "sources": [
        "src/addon.cc",
        "src/settings.cc",
        "src/matmul.cc",
        "src/conv.cc",
        "src/reductions.cc",
        "src/elementwise.cc",
        "src/movement.cc",
        "src/normalization.cc",
        "src/dropout.cc",
        "src/optimizer.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-O2", "-O0", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-Wno-unused-function", "-Wno-psabi", "<@(simd_flags)"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-fno-math-errno", "<@(simd_flags)"]
      },
      "conditions": [
        ["use_openblas==1", {
          "defines": ["DISTILLERY_OPENBLAS"],
          "include_dirs": ["<(openblas_include)"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
