// Softmax and the reductions (sum, max, min, mean, product) over a block of axes.
#include "vexp.h"
#include "exports.h"

namespace dst {

// softmax(x, y, rows, cols, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  float* y = F32(info[1]);
  const int64_t rows = I(info[2]), cols = I(info[3]);
  const bool lg = info.Length() > 4 && B(info[4]);
  parallel_for(rows, double(cols) * 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* a = x + r * cols;
      float* o = y + r * cols;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < cols; ++j) m = a[j] > m ? a[j] : m;
      if (lg) {
        const float s = vexp_array(a, o, cols, -m);
        const float ls = std::log(s);
        for (int64_t j = 0; j < cols; ++j) o[j] = a[j] - m - ls;
      } else {
        const float s = vexp_array(a, o, cols, -m);
        const float inv = 1.f / s;
        for (int64_t j = 0; j < cols; ++j) o[j] *= inv;
      }
    }
  });
  return info.Env().Undefined();
}

enum RedOp { RED_SUM = 0, RED_MAX = 1, RED_MIN = 2, RED_MEAN = 3, RED_PROD = 4 };

// reduce(op, x, y, outer, red, inner): x viewed as [outer, red, inner]; y[outer, inner].
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const int op = int(I(info[0]));
  const float* x = F32(info[1]);
  float* y = F32(info[2]);
  const int64_t outer = I(info[3]), red = I(info[4]), inner = I(info[5]);
  if (inner == 1) {
    parallel_for(outer, double(red), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* a = x + r * red;
        float acc;
        switch (op) {
          case RED_MAX: {
            acc = red ? a[0] : -std::numeric_limits<float>::infinity();
            for (int64_t j = 1; j < red; ++j) acc = (a[j] > acc || std::isnan(a[j])) ? a[j] : acc;
            break;
          }
          case RED_MIN: {
            acc = red ? a[0] : std::numeric_limits<float>::infinity();
            for (int64_t j = 1; j < red; ++j) acc = (a[j] < acc || std::isnan(a[j])) ? a[j] : acc;
            break;
          }
          case RED_PROD: {
            acc = 1.f;
            for (int64_t j = 0; j < red; ++j) acc *= a[j];
            break;
          }
          default: {
            // 8 partial sums: vectorises and is closer to pairwise accuracy
            float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int64_t j = 0;
            for (; j + 8 <= red; j += 8)
              for (int q = 0; q < 8; ++q) s[q] += a[j + q];
            float t = 0.f;
            for (; j < red; ++j) t += a[j];
            acc = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + t;
            if (op == RED_MEAN) acc /= float(red);
          }
        }
        y[r] = acc;
      }
    });
    return info.Env().Undefined();
  }
  // reduce over the middle axis, inner contiguous: accumulate rows
  parallel_for(outer * ((inner + 255) / 256), double(red) * 256, [&](int64_t t0, int64_t t1) {
    const int64_t tiles = (inner + 255) / 256;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / tiles, c0 = (t % tiles) * 256, c1 = std::min(inner, c0 + 256);
      float* out = y + o * inner;
      const float* base = x + o * red * inner;
      for (int64_t c = c0; c < c1; ++c)
        out[c] = op == RED_SUM || op == RED_MEAN ? 0.f
                 : op == RED_PROD                ? 1.f
                 : red                           ? base[c]
                 : (op == RED_MAX ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity());
      for (int64_t r = (op == RED_MAX || op == RED_MIN) ? 1 : 0; r < red; ++r) {
        const float* a = base + r * inner;
        switch (op) {
          case RED_MAX:
            for (int64_t c = c0; c < c1; ++c) out[c] = (a[c] > out[c] || std::isnan(a[c])) ? a[c] : out[c];
            break;
          case RED_MIN:
            for (int64_t c = c0; c < c1; ++c) out[c] = (a[c] < out[c] || std::isnan(a[c])) ? a[c] : out[c];
            break;
          case RED_PROD:
            for (int64_t c = c0; c < c1; ++c) out[c] *= a[c];
            break;
          default:
            for (int64_t c = c0; c < c1; ++c) out[c] += a[c];
        }
      }
      if (op == RED_MEAN)
        for (int64_t c = c0; c < c1; ++c) out[c] /= float(red);
    }
  });
  return info.Env().Undefined();
}

}  // namespace dst
