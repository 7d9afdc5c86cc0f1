// Vectorised exp (Cephes expf) and a broadcast helper, shared by softmax, the unary kernels
// and Adam.
#pragma once
#include "common.h"

namespace dst {

// ---------------------------------------------------------------- vectorised exp (Cephes expf)

// Vectors of GP_W floats (gemm_portable.h: 8 with AVX, 4 on x86 without it, where 8-wide
// conversions would be split into scalar code).
typedef int32_t gp_veci __attribute__((vector_size(GP_W * 4)));

static inline v8sf vbroadcast(float f) { return v8sf{f, f, f, f, f, f, f, f}; }

static inline gp_vec vexpw(gp_vec x) {
  const gp_vec z0 = {};
  const gp_vec hi = z0 + 88.3762626647949f, lo = z0 - 88.3762626647949f;
  x = x > hi ? hi : x;
  x = x < lo ? lo : x;
  gp_vec fx = x * 1.44269504088896341f + 0.5f;
  gp_veci ti = __builtin_convertvector(fx, gp_veci);
  gp_vec tf = __builtin_convertvector(ti, gp_vec);
  ti = ti + (gp_veci)(tf > fx);  // floor
  tf = __builtin_convertvector(ti, gp_vec);
  x = x - tf * 0.693359375f - tf * -2.12194440e-4f;
  const gp_vec z = x * x;
  gp_vec y = z0 + 1.9875691500E-4f;
  y = y * x + 1.3981999507E-3f;
  y = y * x + 8.3334519073E-3f;
  y = y * x + 4.1665795894E-2f;
  y = y * x + 1.6666665459E-1f;
  y = y * x + 5.0000001201E-1f;
  y = y * z + x + 1.f;
  const gp_veci e = (ti + 127) << 23;
  return y * (gp_vec)e;
}

// y[i] = exp(x[i] + shift)  (y may alias x); returns the sum of the outputs.
static inline float vexp_array(const float* x, float* y, int64_t n, float shift = 0.f) {
  gp_vec acc = {};
  int64_t i = 0;
  for (; i + GP_W <= n; i += GP_W) {
    const gp_vec v = vexpw(gp_load(x + i) + shift);
    gp_vstore(y + i, v);
    acc += v;
  }
  float s = 0.f;
  if (i < n) {
    float tmp[GP_W] = {};
    for (int64_t j = i; j < n; ++j) tmp[j - i] = x[j];
    gp_vstore(tmp, vexpw(gp_load(tmp) + shift));
    for (int64_t j = i; j < n; ++j) {
      y[j] = tmp[j - i];
      s += tmp[j - i];
    }
  }
  for (int q = 0; q < GP_W; ++q) s += acc[q];
  return s;
}

}  // namespace dst
