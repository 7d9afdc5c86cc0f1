// Batch normalisation (tfjs's FusedBatchNorm and its one-pass gradient) and layer
// normalisation over the last axis.
#include "common.h"
#include "exports.h"

namespace dst {

// ---------------------------------------------------------------- batch normalisation

// batchNorm(x, mean, variance, offset|null, scale|null, out, eps): tfjs's FusedBatchNorm with its
// flat cyclic broadcasting (parameter i is used for element j when j % len == i). Computed in
// double and rounded once, like tfjs-cpu's kernel, so the result is bit-identical to it.
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  Napi::Float32Array xa = info[0].As<Napi::Float32Array>();
  Napi::Float32Array ma = info[1].As<Napi::Float32Array>(), va = info[2].As<Napi::Float32Array>();
  const float* x = xa.Data();
  const float* mean = ma.Data();
  const float* var = va.Data();
  const float one = 1.f, zero = 0.f;
  const bool hasOff = info[3].IsTypedArray(), hasScale = info[4].IsTypedArray();
  const float* off = hasOff ? F32(info[3]) : &zero;
  const float* scale = hasScale ? F32(info[4]) : &one;
  const int64_t nOff = hasOff ? int64_t(info[3].As<Napi::Float32Array>().ElementLength()) : 1;
  const int64_t nScale = hasScale ? int64_t(info[4].As<Napi::Float32Array>().ElementLength()) : 1;
  const int64_t nMean = int64_t(ma.ElementLength()), nVar = int64_t(va.ElementLength());
  float* out = F32(info[5]);
  const double eps = D(info[6]);
  const int64_t n = int64_t(xa.ElementLength());
  if (nOff == n && nMean == n && nScale == n && nVar == n) {
    // every parameter full-size (tfjs-layers' LayerNormalization tiles them): a vectorisable loop
    parallel_for(n, 8.0, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        out[i] = float(double(off[i]) + (double(x[i]) - double(mean[i])) * double(scale[i]) / std::sqrt(double(var[i]) + eps));
    });
    return info.Env().Undefined();
  }
  parallel_for(n, 8.0, [&](int64_t i0, int64_t i1) {
    int64_t io = i0 % nOff, im = i0 % nMean, is = i0 % nScale, iv = i0 % nVar;
    for (int64_t i = i0; i < i1; ++i) {
      out[i] = float(double(off[io]) + (double(x[i]) - double(mean[im])) * double(scale[is]) / std::sqrt(double(var[iv]) + eps));
      if (++io == nOff) io = 0;
      if (++im == nMean) im = 0;
      if (++is == nScale) is = 0;
      if (++iv == nVar) iv = 0;
    }
  });
  return info.Env().Undefined();
}

// batchNormGrad(which, x, mean, variance, scale|null, dy, out, eps): one input's gradient of
// FusedBatchNorm when mean, variance and scale are as large as x (tfjs-layers' LayerNormalization),
// in one pass. which: 0 = x, 1 = mean, 2 = variance, 3 = scale. The float32 operations and their
// order are those of tfjs-core's registered gradient run op by op on this engine (rsqrt as
// 1/sqrt), so the result is bit-identical to it.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
template <int WHICH>
static void batch_norm_grad(const float* __restrict x, const float* __restrict mean, const float* __restrict var,
                            const float* __restrict scale, const float* __restrict dy, float* __restrict out,
                            float eps, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) {
    const float s = scale[i];
    const float ve = var[i] + eps;
    const float sq = std::sqrt(ve);
    const float r = 1.f / sq;
    float o;
    if (WHICH == 0) {
      const float t = dy[i] * r;
      o = t * s;
    } else if (WHICH == 1) {
      const float nr = r * -1.f;
      const float dys = dy[i] * s;
      o = nr * dys;
    } else if (WHICH == 2) {
      const float r2 = r * r;
      const float r3 = r2 * r;
      const float mh = r3 * -0.5f;
      const float xm = x[i] - mean[i];
      const float t = mh * xm;
      const float dys = dy[i] * s;
      o = t * dys;
    } else {
      const float xm = x[i] - mean[i];
      const float t = xm * r;
      o = dy[i] * t;
    }
    out[i] = o;
  }
}

Napi::Value BatchNormGrad(const Napi::CallbackInfo& info) {
  const int which = int(I(info[0]));
  Napi::Float32Array xa = info[1].As<Napi::Float32Array>();
  const float* x = xa.Data();
  const float* mean = F32(info[2]);
  const float* var = F32(info[3]);
  const float* dy = F32(info[5]);
  float* out = F32(info[6]);
  const float eps = float(D(info[7]));
  const int64_t n = int64_t(xa.ElementLength());
  // no scale: tfjs multiplies by a scalar 1 (exact), here by a row of ones
  static thread_local AlignedBuf ones;
  const float* scale;
  if (info[4].IsTypedArray()) {
    scale = F32(info[4]);
  } else {
    float* o = ones.get(n);
    for (int64_t i = 0; i < n; ++i) o[i] = 1.f;
    scale = o;
  }
  parallel_for(n, 6.0, [&](int64_t i0, int64_t i1) {
    if (which == 0) batch_norm_grad<0>(x, mean, var, scale, dy, out, eps, i0, i1);
    else if (which == 1) batch_norm_grad<1>(x, mean, var, scale, dy, out, eps, i0, i1);
    else if (which == 2) batch_norm_grad<2>(x, mean, var, scale, dy, out, eps, i0, i1);
    else batch_norm_grad<3>(x, mean, var, scale, dy, out, eps, i0, i1);
  });
  return info.Env().Undefined();
}
#pragma GCC pop_options

// ---------------------------------------------------------------- layer normalisation
// Over the last axis of [rows, D]: y = (x - mean) · rstd · gamma + beta, rstd = 1/sqrt(var + eps),
// statistics accumulated in double. The gradients recompute each row's statistics (the row is
// in cache) instead of keeping them from the forward pass.

static inline void row_stats(const float* x, int64_t cols, double eps, float& mean, float& rstd) {
  double s = 0.0;
  for (int64_t j = 0; j < cols; ++j) s += x[j];
  const double m = s / double(cols);
  double v = 0.0;
  for (int64_t j = 0; j < cols; ++j) {
    const double d = double(x[j]) - m;
    v += d * d;
  }
  mean = float(m);
  rstd = float(1.0 / std::sqrt(v / double(cols) + eps));
}

// layerNorm(x, gamma, beta, y, rows, cols, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  const float* gamma = F32(info[1]);
  const float* beta = F32(info[2]);
  float* y = F32(info[3]);
  const int64_t rows = I(info[4]), cols = I(info[5]);
  const double eps = D(info[6]);
  parallel_for(rows, 6.0 * double(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      float mean, rstd;
      row_stats(xr, cols, eps, mean, rstd);
      for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mean) * rstd * gamma[j] + beta[j];
    }
  });
  return info.Env().Undefined();
}

// layerNormGradX(x, gamma, dy, dx, rows, cols, eps):
// dx = rstd · (g - mean(g) - xhat · mean(g · xhat)), g = dy · gamma, xhat = (x - mean) · rstd
Napi::Value LayerNormGradX(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  const float* gamma = F32(info[1]);
  const float* dy = F32(info[2]);
  float* dx = F32(info[3]);
  const int64_t rows = I(info[4]), cols = I(info[5]);
  const double eps = D(info[6]);
  parallel_for(rows, 10.0 * double(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      float mean, rstd;
      row_stats(xr, cols, eps, mean, rstd);
      double sg = 0.0, sgx = 0.0;
      for (int64_t j = 0; j < cols; ++j) {
        const float g = dyr[j] * gamma[j];
        sg += g;
        sgx += double(g) * double((xr[j] - mean) * rstd);
      }
      const float mg = float(sg / double(cols)), mgx = float(sgx / double(cols));
      for (int64_t j = 0; j < cols; ++j) {
        const float xhat = (xr[j] - mean) * rstd;
        dxr[j] = rstd * (dyr[j] * gamma[j] - mg - xhat * mgx);
      }
    }
  });
  return info.Env().Undefined();
}

// layerNormGradGamma(x, dy, dgamma, rows, cols, eps): dgamma = Σ_rows dy · xhat
Napi::Value LayerNormGradGamma(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  const float* dy = F32(info[1]);
  float* dgamma = F32(info[2]);
  const int64_t rows = I(info[3]), cols = I(info[4]);
  const double eps = D(info[5]);
  const int T = pool().size();
  const bool threaded = T > 1 && double(rows) * double(cols) * 6.0 >= 60000.0;
  const int parts = threaded ? T : 1;
  std::vector<double> acc(size_t(parts) * size_t(cols), 0.0);
  auto work = [&](int64_t r0, int64_t r1, double* a) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      const float* dyr = dy + r * cols;
      float mean, rstd;
      row_stats(xr, cols, eps, mean, rstd);
      for (int64_t j = 0; j < cols; ++j) a[j] += double(dyr[j] * ((xr[j] - mean) * rstd));
    }
  };
  if (threaded) {
    pool().run([&](int w, int nw) {
      const int64_t r0 = rows * w / nw, r1 = rows * (w + 1) / nw;
      work(r0, r1, acc.data() + size_t(w) * size_t(cols));
    });
  } else {
    work(0, rows, acc.data());
  }
  for (int64_t j = 0; j < cols; ++j) {
    double s = 0.0;
    for (int p = 0; p < parts; ++p) s += acc[size_t(p) * size_t(cols) + size_t(j)];
    dgamma[j] = float(s);
  }
  return info.Env().Undefined();
}

}  // namespace dst
