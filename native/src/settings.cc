// The engine-wide settings: what the addon was built with, threads, BLAS on or off.
#include "common.h"
#include "exports.h"

namespace dst {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#ifdef DISTILLERY_OPENBLAS
  std::string cfg = openblas_get_config();
  o.Set("blas", g_use_blas ? Napi::String::New(env, "openblas " + cfg) : Napi::String::New(env, "portable"));
  o.Set("hasBlas", true);
#else
  o.Set("blas", "portable");
  o.Set("hasBlas", false);
#endif
  o.Set("threads", g_threads);
#if defined(__AVX2__) && defined(__FMA__)
  o.Set("simd", "avx2+fma");
#elif defined(__AVX__)
  o.Set("simd", "avx");
#elif defined(__SSE2__)
  o.Set("simd", "sse2");
#else
  o.Set("simd", "none");
#endif
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = int(I(info[0]));
  if (n < 1) n = 1;
  if (n > 64) n = 64;
  g_threads = n;
  pool().resize(n);
#ifdef DISTILLERY_OPENBLAS
  openblas_set_num_threads(g_blas_threads ? n : 1);
#endif
  return info.Env().Undefined();
}

// setBlas(true|false): switch between BLAS and the portable GEMM at run time (tests).
Napi::Value SetBlas(const Napi::CallbackInfo& info) {
#ifdef DISTILLERY_OPENBLAS
  g_use_blas = B(info[0]);
#endif
  return Napi::Boolean::New(info.Env(), g_use_blas);
}

}  // namespace dst
