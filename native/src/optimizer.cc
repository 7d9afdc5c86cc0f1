// The fused Adam update (src/engine/optimizer.ts).
#include "vexp.h"
#include "exports.h"

namespace dst {

// adam(value, m, v, g, newValue, newM, newV, lr, beta1, beta2, eps, oneMinusAccBeta1, oneMinusAccBeta2,
//      oneMinusBeta1, oneMinusBeta2)
// Bit-identical to tfjs's AdamOptimizer: the same float32 operations in the same order (each
// tfjs op rounds to float32; no fused multiply-add, true divisions, and 1-beta rounded from
// double by the caller as tfjs does), so switching optimizers never changes a result.
// Outputs may alias inputs (in-place update).
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
Napi::Value Adam(const Napi::CallbackInfo& info) {
  Napi::Float32Array va = info[0].As<Napi::Float32Array>();
  const float* val = va.Data();
  const float* m = F32(info[1]);
  const float* v = F32(info[2]);
  const float* g = F32(info[3]);
  float* nval = F32(info[4]);
  float* nm = F32(info[5]);
  float* nv = F32(info[6]);
  const float b1 = float(D(info[8])), b2 = float(D(info[9])), eps = float(D(info[10]));
  const float c1 = float(D(info[11])), c2 = float(D(info[12]));
  const float ob1 = float(D(info[13])), ob2 = float(D(info[14]));
  const float nlr = float(-D(info[7]));  // tfjs multiplies by the scalar -learningRate
  const int64_t n = int64_t(va.ElementLength());
  parallel_for(n, 12.0, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
    const v8sf B1 = vbroadcast(b1), B2 = vbroadcast(b2), OB1 = vbroadcast(ob1), OB2 = vbroadcast(ob2);
    const v8sf C1 = vbroadcast(c1), C2 = vbroadcast(c2), EPS = vbroadcast(eps), NLR = vbroadcast(nlr);
    for (; i + 8 <= i1; i += 8) {
      const v8sf gi = vload(g + i);
      const v8sf ma = vload(m + i) * B1, mb = gi * OB1;
      const v8sf mi = ma + mb;
      const v8sf g2 = gi * gi;
      const v8sf va_ = vload(v + i) * B2, vb = g2 * OB2;
      const v8sf vi = va_ + vb;
      const v8sf mh = mi / C1, vh = vi / C2;
#ifdef __AVX__
      const v8sf sq = __builtin_ia32_sqrtps256(vh);
#else
      v8sf sq;
      for (int q = 0; q < 8; ++q) sq[q] = std::sqrt(vh[q]);
#endif
      const v8sf den = sq + EPS;
      const v8sf step = (mh / den) * NLR;
      const v8sf nx = step + vload(val + i);
      vstore(nm + i, mi);
      vstore(nv + i, vi);
      vstore(nval + i, nx);
    }
    for (; i < i1; ++i) {
      const float gi = g[i];
      const float ma = m[i] * b1, mb = gi * ob1;
      const float mi = ma + mb;
      const float g2 = gi * gi;
      const float va1 = v[i] * b2, vb = g2 * ob2;
      const float vi = va1 + vb;
      const float mh = mi / c1, vh = vi / c2;
      const float den = std::sqrt(vh) + eps;
      const float step = (mh / den) * nlr;
      nm[i] = mi;
      nv[i] = vi;
      nval[i] = step + val[i];
    }
  });
  return info.Env().Undefined();
}
#pragma GCC pop_options

}  // namespace dst
