// Data movement over any 4-byte type: transpose, tile, concat, gather, and the segment sum.
#include "common.h"
#include "exports.h"

namespace dst {

// transpose(x, y, shape:number[], perm:number[])
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  const uint32_t* x = W32(info[0]);
  uint32_t* y = W32(info[1]);
  Napi::Array sh = info[2].As<Napi::Array>(), pm = info[3].As<Napi::Array>();
  const int rank = int(sh.Length());
  int64_t shape[8], perm[8], xstr[8], oshape[8], ostr_in[8];
  for (int d = 0; d < rank; ++d) {
    shape[d] = I(sh.Get(uint32_t(d)));
    perm[d] = I(pm.Get(uint32_t(d)));
  }
  xstr[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; --d) xstr[d] = xstr[d + 1] * shape[d + 1];
  for (int d = 0; d < rank; ++d) {
    oshape[d] = shape[perm[d]];
    ostr_in[d] = xstr[perm[d]];  // input stride for output dim d
  }
  const int64_t inner = oshape[rank - 1], istep = ostr_in[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; ++d) rows *= oshape[d];
  parallel_for(rows, double(inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, off = 0;
      for (int d = rank - 2; d >= 0; --d) {
        off += (rem % oshape[d]) * ostr_in[d];
        rem /= oshape[d];
      }
      const uint32_t* src = x + off;
      uint32_t* dst = y + r * inner;
      if (istep == 1) std::memcpy(dst, src, sizeof(uint32_t) * inner);
      else
        for (int64_t i = 0; i < inner; ++i) dst[i] = src[i * istep];
    }
  });
  return info.Env().Undefined();
}

// tile(x, y, xShape:number[], reps:number[]) — any 4-byte type
Napi::Value Tile(const Napi::CallbackInfo& info) {
  const uint32_t* x = W32(info[0]);
  uint32_t* y = W32(info[1]);
  Napi::Array sh = info[2].As<Napi::Array>(), rp = info[3].As<Napi::Array>();
  const int rank = int(sh.Length());
  int64_t xs[8], os[8], xstr[8];
  for (int d = 0; d < rank; ++d) {
    xs[d] = I(sh.Get(uint32_t(d)));
    os[d] = xs[d] * I(rp.Get(uint32_t(d)));
  }
  xstr[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; --d) xstr[d] = xstr[d + 1] * xs[d + 1];
  const int64_t inner = os[rank - 1], xin = xs[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; ++d) rows *= os[d];
  parallel_for(rows, double(inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, off = 0;
      for (int d = rank - 2; d >= 0; --d) {
        off += ((rem % os[d]) % xs[d]) * xstr[d];
        rem /= os[d];
      }
      const uint32_t* src = x + off;
      uint32_t* dst = y + r * inner;
      if (xin == 1) {
        const uint32_t v = src[0];
        for (int64_t j = 0; j < inner; ++j) dst[j] = v;
      } else {
        for (int64_t j = 0; j < inner; j += xin) std::memcpy(dst + j, src, sizeof(uint32_t) * xin);
      }
    }
  });
  return info.Env().Undefined();
}

// concat(out, inputs[], outer, sizes:number[]): out[o, :] = concat_i(in_i[o, 0:sizes[i]]) — any 4-byte type
Napi::Value Concat(const Napi::CallbackInfo& info) {
  uint32_t* y = W32(info[0]);
  Napi::Array list = info[1].As<Napi::Array>();
  const int64_t outer = I(info[2]);
  Napi::Array sz = info[3].As<Napi::Array>();
  const uint32_t n = list.Length();
  std::vector<const uint32_t*> srcs(n);
  std::vector<int64_t> sizes(n);
  int64_t row = 0;
  for (uint32_t i = 0; i < n; ++i) {
    srcs[i] = W32(list.Get(i));
    sizes[i] = I(sz.Get(i));
    row += sizes[i];
  }
  parallel_for(outer, double(row), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      uint32_t* dst = y + o * row;
      for (uint32_t i = 0; i < n; ++i) {
        std::memcpy(dst, srcs[i] + o * sizes[i], sizeof(uint32_t) * sizes[i]);
        dst += sizes[i];
      }
    }
  });
  return info.Env().Undefined();
}

// gather(x, indices:Int32Array, y, outer, axisDim, inner): y[o, i, :] = x[o, idx[i], :]
// Out-of-range indices give zeros (tfjs cpu throws; the JS side checks first).
Napi::Value Gather(const Napi::CallbackInfo& info) {
  const uint32_t* x = W32(info[0]);
  Napi::Int32Array ia = info[1].As<Napi::Int32Array>();
  const int32_t* idx = ia.Data();
  const int64_t nidx = int64_t(ia.ElementLength());
  uint32_t* y = W32(info[2]);
  const int64_t outer = I(info[3]), axisDim = I(info[4]), inner = I(info[5]);
  parallel_for(outer * nidx, double(inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o = r / nidx, i = r % nidx;
      const int64_t k = idx[i];
      uint32_t* dst = y + r * inner;
      if (k < 0 || k >= axisDim) std::memset(dst, 0, sizeof(uint32_t) * inner);
      else std::memcpy(dst, x + (o * axisDim + k) * inner, sizeof(uint32_t) * inner);
    }
  });
  return info.Env().Undefined();
}

// segmentSum(x, ids:Int32Array, y, numSegments, inner): y[ids[i], :] += x[i, :]
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  Napi::Int32Array ia = info[1].As<Napi::Int32Array>();
  const int32_t* ids = ia.Data();
  const int64_t n = int64_t(ia.ElementLength());
  float* y = F32(info[2]);
  const int64_t S = I(info[3]), inner = I(info[4]);
  std::memset(y, 0, sizeof(float) * S * inner);
  // split the output columns across workers: no write conflicts, same summation order
  parallel_for(inner, double(n), [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t s = ids[i];
      if (s < 0 || s >= S) continue;
      const float* a = x + i * inner;
      float* o = y + s * inner;
      for (int64_t c = c0; c < c1; ++c) o[c] += a[c];
    }
  });
  return info.Env().Undefined();
}

}  // namespace dst
