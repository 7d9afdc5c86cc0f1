// Dropout masks drawn in lanes of alea's stream (src/engine/dropoutMask.ts).
#include "common.h"
#include "exports.h"

namespace dst {

// aleaDropout(out, lanes, block, threshold, scale): tfjs's dropout multiplier (0 or `scale`) from
// seedrandom's alea stream. Alea is a lag-3 multiply-with-carry generator (base 2^32, multiplier
// 2091639): x[n+3] = (a x[n] + c[n]) mod 2^32, c[n+1] = floor((a x[n] + c[n]) / 2^32), draw x / 2^32,
// which its double arithmetic computes exactly. Each draw waits on the previous one, so one
// stream runs at the latency of that chain; here `lanes` holds the states (x0, x1, x2, c) of
// several positions of the same stream, `block` draws apart (jumped to by the caller,
// src/engine/dropoutMask.ts), and the lanes run side by side. Lane j writes out[j·block …).
// The multiplier is `scale` where the draw is >= threshold (the mask test as an integer compare).
Napi::Value AleaDropout(const Napi::CallbackInfo& info) {
  Napi::Float32Array outA = info[0].As<Napi::Float32Array>();
  float* __restrict out = outA.Data();
  const int64_t n = int64_t(outA.ElementLength());
  Napi::Uint32Array lanesA = info[1].As<Napi::Uint32Array>();
  const uint32_t* st = lanesA.Data();
  const int64_t lanes = int64_t(lanesA.ElementLength() / 4);
  const int64_t block = I(info[2]);
  const uint64_t threshold = uint64_t(I(info[3]));
  const float scale = float(info[4].As<Napi::Number>().DoubleValue());
  constexpr int W = 8;
  for (int64_t g = 0; g < lanes; g += W) {
    const int w = int(std::min<int64_t>(W, lanes - g));
    uint64_t s0[W], s1[W], s2[W], c[W];
    for (int q = 0; q < W; ++q) {
      const int64_t l = g + std::min(q, w - 1);
      s0[q] = st[l * 4]; s1[q] = st[l * 4 + 1]; s2[q] = st[l * 4 + 2]; c[q] = st[l * 4 + 3];
    }
    for (int64_t i = 0; i < block; ++i) {
      for (int q = 0; q < W; ++q) {
        const uint64_t t = 2091639ull * s0[q] + c[q];
        const uint64_t x = t & 0xffffffffull;
        c[q] = t >> 32;
        s0[q] = s1[q];
        s1[q] = s2[q];
        s2[q] = x;
        const int64_t idx = (g + q) * block + i;
        if (q < w && idx < n) out[idx] = x >= threshold ? scale : 0.f;
      }
    }
  }
  return info.Env().Undefined();
}

}  // namespace dst
