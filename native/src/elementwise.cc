// Elementwise kernels: the binary ops with broadcasting, the unary ops, AddN, and the
// Relu gradient.
#include "vexp.h"
#include "exports.h"

namespace dst {

enum BinOp { B_ADD = 0, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_SQDIFF, B_POW };

template <int OP>
static inline float bin(float a, float b) {
  if (OP == B_ADD) return a + b;
  if (OP == B_SUB) return a - b;
  if (OP == B_MUL) return a * b;
  if (OP == B_DIV) return a / b;
  if (OP == B_MAX) return (std::isnan(a) || std::isnan(b)) ? NAN : (a > b ? a : b);
  if (OP == B_MIN) return (std::isnan(a) || std::isnan(b)) ? NAN : (a < b ? a : b);
  if (OP == B_SQDIFF) return (a - b) * (a - b);
  if (OP == B_POW) return std::pow(a, b);
  return 0.f;
}

// Inner loop over n outputs with a/b strides in {0, 1}.
template <int OP>
static inline void bin_row(const float* __restrict a, int64_t sa, const float* __restrict b, int64_t sb,
                           float* __restrict o, int64_t n) {
  if (sa == 1 && sb == 1)
    for (int64_t i = 0; i < n; ++i) o[i] = bin<OP>(a[i], b[i]);
  else if (sa == 1 && sb == 0) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = bin<OP>(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = bin<OP>(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = bin<OP>(a[i * sa], b[i * sb]);
  }
}

// Broadcast over rank <= 8: shape[] is the output shape, as[]/bs[] element strides (0 = broadcast).
template <int OP>
static void bin_nd(const float* a, const float* b, float* o, int rank, const int64_t* shape, const int64_t* as,
                   const int64_t* bs) {
  const int64_t inner = shape[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; ++d) rows *= shape[d];
  if (rank == 2) {
    parallel_for(rows, double(inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        bin_row<OP>(a + r * as[0], as[1], b + r * bs[0], bs[1], o + r * inner, inner);
    });
    return;
  }
  parallel_for(rows, double(inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, ao = 0, bo = 0;
      for (int d = rank - 2; d >= 0; --d) {
        const int64_t i = rem % shape[d];
        rem /= shape[d];
        ao += i * as[d];
        bo += i * bs[d];
      }
      bin_row<OP>(a + ao, as[rank - 1], b + bo, bs[rank - 1], o + r * inner, inner);
    }
  });
}

// binary(op, a, b, out, shape:number[], aStrides:number[], bStrides:number[])
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int op = int(I(info[0]));
  const float* a = F32(info[1]);
  const float* b = F32(info[2]);
  float* o = F32(info[3]);
  Napi::Array sh = info[4].As<Napi::Array>(), sa = info[5].As<Napi::Array>(), sb = info[6].As<Napi::Array>();
  const int rank = int(sh.Length());
  int64_t shape[8], as[8], bs[8];
  for (int d = 0; d < rank && d < 8; ++d) {
    shape[d] = I(sh.Get(uint32_t(d)));
    as[d] = I(sa.Get(uint32_t(d)));
    bs[d] = I(sb.Get(uint32_t(d)));
  }
  switch (op) {
    case B_ADD: bin_nd<B_ADD>(a, b, o, rank, shape, as, bs); break;
    case B_SUB: bin_nd<B_SUB>(a, b, o, rank, shape, as, bs); break;
    case B_MUL: bin_nd<B_MUL>(a, b, o, rank, shape, as, bs); break;
    case B_DIV: bin_nd<B_DIV>(a, b, o, rank, shape, as, bs); break;
    case B_MAX: bin_nd<B_MAX>(a, b, o, rank, shape, as, bs); break;
    case B_MIN: bin_nd<B_MIN>(a, b, o, rank, shape, as, bs); break;
    case B_SQDIFF: bin_nd<B_SQDIFF>(a, b, o, rank, shape, as, bs); break;
    case B_POW: bin_nd<B_POW>(a, b, o, rank, shape, as, bs); break;
  }
  return info.Env().Undefined();
}

enum UnOp {
  U_RELU = 0, U_RELU6, U_EXP, U_LOG, U_SQRT, U_RSQRT, U_SQUARE, U_NEG, U_ABS, U_STEP, U_SIGMOID, U_TANH,
  U_RECIP, U_ELU, U_LEAKY, U_LOG1P, U_SOFTPLUS
};

template <int OP>
static inline void un_loop(const float* __restrict x, float* __restrict y, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    float r;
    if (OP == U_RELU) r = v > 0.f ? v : (std::isnan(v) ? v : 0.f);
    else if (OP == U_RELU6) r = std::isnan(v) ? v : std::min(std::max(v, 0.f), 6.f);
    else if (OP == U_EXP) r = std::exp(v);
    else if (OP == U_LOG) r = std::log(v);
    else if (OP == U_SQRT) r = std::sqrt(v);
    else if (OP == U_RSQRT) r = 1.f / std::sqrt(v);
    else if (OP == U_SQUARE) r = v * v;
    else if (OP == U_NEG) r = -v;
    else if (OP == U_ABS) r = std::fabs(v);
    else if (OP == U_STEP) r = std::isnan(v) ? NAN : (v > 0.f ? 1.f : alpha);
    else if (OP == U_SIGMOID) r = 1.f / (1.f + std::exp(-v));
    else if (OP == U_TANH) r = std::tanh(v);
    else if (OP == U_RECIP) r = 1.f / v;
    else if (OP == U_ELU) r = v >= 0.f ? v : std::expm1(v);
    else if (OP == U_LEAKY) r = v < 0.f ? alpha * v : v;
    else if (OP == U_LOG1P) r = std::log1p(v);
    else if (OP == U_SOFTPLUS) r = v > 0.f ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
    else r = v;
    y[i] = r;
  }
}

// unary(op, x, y, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int op = int(I(info[0]));
  Napi::Float32Array xa = info[1].As<Napi::Float32Array>();
  const float* x = xa.Data();
  float* y = F32(info[2]);
  const float alpha = float(D(info[3]));
  const int64_t n = int64_t(xa.ElementLength());
  const double cost = (op == U_RELU || op == U_NEG || op == U_SQUARE || op == U_ABS || op == U_STEP || op == U_LEAKY ||
                       op == U_RELU6)
                          ? 1.0
                          : 8.0;
  parallel_for(n, cost, [&](int64_t i0, int64_t i1) {
    const float* xs = x + i0;
    float* ys = y + i0;
    const int64_t m = i1 - i0;
    if (op == U_EXP) {
      vexp_array(xs, ys, m);
      return;
    }
    if (op == U_SIGMOID) {
      for (int64_t i = 0; i < m; ++i) ys[i] = -xs[i];
      vexp_array(ys, ys, m);
      for (int64_t i = 0; i < m; ++i) ys[i] = 1.f / (1.f + ys[i]);
      return;
    }
    switch (op) {
#define U(OPC) \
  case OPC: un_loop<OPC>(xs, ys, m, alpha); break;
      U(U_RELU) U(U_RELU6) U(U_EXP) U(U_LOG) U(U_SQRT) U(U_RSQRT) U(U_SQUARE) U(U_NEG) U(U_ABS) U(U_STEP)
      U(U_SIGMOID) U(U_TANH) U(U_RECIP) U(U_ELU) U(U_LEAKY) U(U_LOG1P) U(U_SOFTPLUS)
#undef U
    }
  });
  return info.Env().Undefined();
}

// addN(out, [a, b, ...]) — all the same length.
Napi::Value AddN(const Napi::CallbackInfo& info) {
  Napi::Float32Array out = info[0].As<Napi::Float32Array>();
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<const float*> srcs;
  for (uint32_t i = 0; i < list.Length(); ++i) srcs.push_back(F32(list.Get(i)));
  float* o = out.Data();
  const int64_t n = int64_t(out.ElementLength());
  parallel_for(n, double(srcs.size()), [&](int64_t i0, int64_t i1) {
    if (srcs.empty()) {
      std::fill(o + i0, o + i1, 0.f);
      return;
    }
    std::memcpy(o + i0, srcs[0] + i0, sizeof(float) * (i1 - i0));
    for (size_t s = 1; s < srcs.size(); ++s) {
      const float* a = srcs[s];
      for (int64_t i = i0; i < i1; ++i) o[i] += a[i];
    }
  });
  return info.Env().Undefined();
}

// reluGrad(x, dy, out): tfjs's Relu gradient dy · step(x) in one pass (step(NaN) = NaN).
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  Napi::Float32Array xa = info[0].As<Napi::Float32Array>();
  const float* __restrict x = xa.Data();
  const float* __restrict dy = F32(info[1]);
  float* __restrict out = F32(info[2]);
  const int64_t n = int64_t(xa.ElementLength());
  parallel_for(n, 1.0, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float v = x[i];
      const float st = v > 0.f ? 1.f : (v != v ? v : 0.f);
      out[i] = dy[i] * st;
    }
  });
  return info.Env().Undefined();
}

}  // namespace dst
