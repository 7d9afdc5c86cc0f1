// What every file of the native engine shares: N-API, the thread pool, the engine-wide
// settings (threads, BLAS) and the helpers that read a kernel's arguments. The helpers are
// static inline, in a header, so that each kernel file inlines them into its loops as the
// single-file addon did.
//
// Build-time defines: DISTILLERY_OPENBLAS (link OpenBLAS and use cblas_sgemm), otherwise
// the portable blocked GEMM in gemm_portable.h.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "gemm_portable.h"
#include "pool.h"

#ifdef DISTILLERY_OPENBLAS
#include <cblas.h>
extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_config(void);
}
#endif

namespace dst {

// Whether GEMMs go to OpenBLAS (setBlas switches it at run time, for the tests).
inline bool g_use_blas =
#ifdef DISTILLERY_OPENBLAS
    true;
#else
    false;
#endif

// The engine's thread count (setThreads).
inline int g_threads = 1;
// DISTILLERY_GEMM_THREADS=blas: let OpenBLAS thread its own GEMMs instead of splitting them here.
inline bool g_blas_threads = false;

// ---------------------------------------------------------------- argument helpers

static inline float* F32(const Napi::Value& v) { return v.As<Napi::Float32Array>().Data(); }
static inline int32_t* I32(const Napi::Value& v) { return v.As<Napi::Int32Array>().Data(); }
static inline int64_t I(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
static inline double D(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
static inline bool B(const Napi::Value& v) { return v.ToBoolean().Value(); }
static inline float* F32orNull(const Napi::Value& v) { return v.IsTypedArray() ? F32(v) : nullptr; }
// Any 4-byte typed array (Float32Array / Int32Array / Uint32Array) as raw 32-bit words.
static inline uint32_t* W32(const Napi::Value& v) {
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  return reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset());
}

}  // namespace dst
