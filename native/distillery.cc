// Distillery native kernels: an N-API addon that works in place on the Float32Array /
// Int32Array buffers of tfjs's cpu backend (no copies). Every entry point is synchronous
// and is called from the Node main thread only; work is split over a small pool.
//
// Build-time defines: DISTILLERY_OPENBLAS (link OpenBLAS and use cblas_sgemm), otherwise
// the portable blocked GEMM in gemm_portable.h.
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

Pool& pool() {
  static Pool p;
  return p;
}

static bool g_use_blas =
#ifdef DISTILLERY_OPENBLAS
    true;
#else
    false;
#endif

static int g_threads = 1;
// DISTILLERY_GEMM_THREADS=blas: let OpenBLAS thread its own GEMMs instead of splitting them here.
static bool g_blas_threads = false;

// ---------------------------------------------------------------- GEMM front end

// Row-major C = op(A) op(B) + beta*C on the calling thread only.
static void gemm_single(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                        const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
#ifdef DISTILLERY_OPENBLAS
  if (g_use_blas && K > 0) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N),
                int(K), 1.0f, A, int(lda), B, int(ldb), beta, C, int(ldc));
    return;
  }
#endif
  gemm_portable(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, false);
}

static thread_local AlignedBuf t_ksplit;

// Row-major C = op(A) op(B) + beta*C, split across the engine's threads. The BLAS always runs
// single-threaded inside each piece: its own thread pool busy-waits between calls, which on a
// 2-core machine steals the core that the next (elementwise) kernel wants, and it cannot
// tell small products (where threading loses) from large ones.
static void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                 int64_t ldb, float beta, float* C, int64_t ldc, bool may_thread = true) {
  if (M <= 0 || N <= 0) return;
  const int T = g_threads;
  const double work = double(M) * double(N) * double(K);
  if (!may_thread || T == 1 || work < 1.5e6 || K <= 0 || (g_blas_threads && g_use_blas)) {
    gemm_single(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (M >= 16 * T && M * 2 >= N) {
    // split rows of C (rows of op(A))
    const int64_t blocks = (M + 7) / 8;
    parallel_for(blocks, 1e9, [&](int64_t b0, int64_t b1) {
      const int64_t m0 = b0 * 8, m1 = std::min(M, b1 * 8);
      gemm_single(ta, tb, m1 - m0, N, K, ta ? A + m0 : A + m0 * lda, lda, B, ldb, beta, C + m0 * ldc, ldc);
    });
  } else if (N >= 16 * T) {
    // split columns of C (columns of op(B))
    const int64_t blocks = (N + 15) / 16;
    parallel_for(blocks, 1e9, [&](int64_t b0, int64_t b1) {
      const int64_t n0 = b0 * 16, n1 = std::min(N, b1 * 16);
      gemm_single(ta, tb, M, n1 - n0, K, A, lda, tb ? B + n0 * ldb : B + n0, ldb, beta, C + n0, ldc);
    });
  } else {
    // small C, long K (weight gradients of thin layers): split K, then add the partial products
    const int64_t MN = M * N;
    float* part = t_ksplit.get(size_t(MN) * (T - 1));
    parallel_for(T, 1e9, [&](int64_t w0, int64_t w1) {
      for (int64_t w = w0; w < w1; ++w) {
        const int64_t k0 = K * w / T, k1 = K * (w + 1) / T;
        const float* Aw = ta ? A + k0 * lda : A + k0;
        const float* Bw = tb ? B + k0 : B + k0 * ldb;
        if (w == 0) gemm_single(ta, tb, M, N, k1 - k0, Aw, lda, Bw, ldb, beta, C, ldc);
        else gemm_single(ta, tb, M, N, k1 - k0, Aw, lda, Bw, ldb, 0.f, part + (w - 1) * MN, N);
      }
    });
    for (int w = 1; w < T; ++w)
      for (int64_t i = 0; i < M; ++i) {
        float* c = C + i * ldc;
        const float* p = part + (w - 1) * MN + i * N;
        for (int64_t j = 0; j < N; ++j) c[j] += p[j];
      }
  }
}

// Activation codes shared with the JS side.
enum Act { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_SIGMOID = 3, ACT_ELU = 4, ACT_LEAKY = 5 };

static inline float apply_act(float v, int act, float alpha) {
  switch (act) {
    case ACT_RELU: return v > 0.f ? v : 0.f;
    case ACT_RELU6: return std::min(std::max(v, 0.f), 6.f);
    case ACT_SIGMOID: return 1.f / (1.f + std::exp(-v));
    case ACT_ELU: return v >= 0.f ? v : std::expm1(v);
    case ACT_LEAKY: return v < 0.f ? alpha * v : v;
    default: return v;
  }
}

// rows x cols matrix (leading dim ld): add bias (length cols, may be null), then activation.
static void bias_act_rows(float* C, int64_t rows, int64_t cols, int64_t ld, const float* bias, int act, float alpha) {
  for (int64_t r = 0; r < rows; ++r) {
    float* c = C + r * ld;
    if (bias)
      for (int64_t j = 0; j < cols; ++j) c[j] += bias[j];
    if (act == ACT_RELU) {
      for (int64_t j = 0; j < cols; ++j) c[j] = c[j] > 0.f ? c[j] : 0.f;
    } else if (act != ACT_NONE) {
      for (int64_t j = 0; j < cols; ++j) c[j] = apply_act(c[j], act, alpha);
    }
  }
}

// bias_act_rows over all rows, split across the engine's threads.
static void bias_act(float* C, int64_t rows, int64_t cols, int64_t ld, const float* bias, int act, float alpha) {
  if (!bias && act == ACT_NONE) return;
  parallel_for(rows, double(cols), [&](int64_t r0, int64_t r1) { bias_act_rows(C + r0 * ld, r1 - r0, cols, ld, bias, act, alpha); });
}

// C = op(A) op(B) + bias, act — in row chunks so that the bias/activation pass finds each chunk
// of C still in cache (one pass over C instead of two).
static void gemm_bias_act(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                          const float* B, int64_t ldb, float* C, int64_t ldc, const float* bias, int act,
                          float alpha) {
  int64_t R = std::max<int64_t>(32, std::min<int64_t>(512, 65536 / std::max<int64_t>(N, 1)));
  R = (R + 7) / 8 * 8;
  if (M <= R || K <= 0) {
    gemm(ta, tb, M, N, K, A, lda, B, ldb, 0.f, C, ldc);
    bias_act(C, M, N, ldc, bias, act, alpha);
    return;
  }
  const int64_t chunks = (M + R - 1) / R;
  const bool par = g_threads > 1 && double(M) * N * K >= 1.5e6 && chunks >= 2;
  auto body = [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t m0 = c * R, m1 = std::min(M, m0 + R);
      gemm_single(ta, tb, m1 - m0, N, K, ta ? A + m0 : A + m0 * lda, lda, B, ldb, 0.f, C + m0 * ldc, ldc);
      bias_act_rows(C + m0 * ldc, m1 - m0, N, ldc, bias, act, alpha);
    }
  };
  if (par) parallel_for(chunks, 1e9, body);
  else body(0, chunks);
}

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

// ---------------------------------------------------------------- info / settings

static Napi::Value Info(const Napi::CallbackInfo& info) {
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

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
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
static Napi::Value SetBlas(const Napi::CallbackInfo& info) {
#ifdef DISTILLERY_OPENBLAS
  g_use_blas = B(info[0]);
#endif
  return Napi::Boolean::New(info.Env(), g_use_blas);
}

// ---------------------------------------------------------------- matmul

// gemm(ta, tb, batchA, batchB, batch, M, N, K, A, B, C, bias|null, act, alpha)
// C[b] = op(A[b % batchA]) op(B[b % batchB]) (+bias, act). A per batch: M*K, B: K*N.
static Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const bool ta = B(info[0]), tb = B(info[1]);
  const int64_t batchA = I(info[2]), batchB = I(info[3]), batch = I(info[4]);
  const int64_t M = I(info[5]), N = I(info[6]), K = I(info[7]);
  const float* A = F32(info[8]);
  const float* Bm = F32(info[9]);
  float* C = F32(info[10]);
  const float* bias = F32orNull(info[11]);
  const int act = int(I(info[12]));
  const float alpha = float(D(info[13]));
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  const double mnk = double(M) * N * K;
  if (batch == 1 && (bias || act != ACT_NONE)) {
    gemm_bias_act(ta, tb, M, N, K, A, lda, Bm, ldb, C, N, bias, act, alpha);
    return info.Env().Undefined();
  }
  // Small products with a transposed B (attention scores q·kᵀ) are slow in OpenBLAS; transposing
  // each B into a cache-resident buffer first and multiplying without transposes is faster.
  const bool small_nt = tb && !ta && g_use_blas && mnk <= 262144.0 && K * N <= 16384;
  auto one = [&](int64_t b, bool may_thread) {
    const float* Ab = A + (b % batchA) * M * K;
    const float* Bb = Bm + (b % batchB) * K * N;
    float* Cb = C + b * M * N;
    if (small_nt) {
      thread_local float bt[16384];
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < N; ++j) bt[k * N + j] = Bb[j * K + k];
      gemm_single(false, false, M, N, K, Ab, lda, bt, N, 0.f, Cb, N);
    } else if (may_thread) {
      gemm(ta, tb, M, N, K, Ab, lda, Bb, ldb, 0.f, Cb, N);
    } else {
      gemm_single(ta, tb, M, N, K, Ab, lda, Bb, ldb, 0.f, Cb, N);
    }
  };
  if (batch > 1 && g_threads > 1 && (mnk <= 262144.0 || batch >= 4 * g_threads)) {
    // many small products (attention): one product per worker at a time, each single-threaded
    parallel_for(batch, mnk, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) one(b, false);
    });
  } else {
    for (int64_t b = 0; b < batch; ++b) one(b, true);
  }
  if (bias || act != ACT_NONE) bias_act(C, batch * M, N, N, bias, act, alpha);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- convolution (NHWC, filter HWIO)

struct ConvP {
  int64_t N, H, W, C, KH, KW, OC, OH, OW, sh, sw, pt, pl, dh, dw;
  int64_t K() const { return KH * KW * C; }
  int64_t P() const { return OH * OW; }
};

static ConvP conv_params(const Napi::CallbackInfo& info, int at) {
  ConvP p;
  int64_t* f[] = {&p.N, &p.H, &p.W, &p.C, &p.KH, &p.KW, &p.OC, &p.OH, &p.OW, &p.sh, &p.sw, &p.pt, &p.pl, &p.dh, &p.dw};
  for (int i = 0; i < 15; ++i) *f[i] = I(info[at + i]);
  return p;
}

static thread_local AlignedBuf t_col;

// Images per chunk so that a chunk's column matrix stays around 8 MB.
static int64_t conv_chunk(const ConvP& p) {
  const int64_t per = std::max<int64_t>(1, p.P() * p.K());
  return std::max<int64_t>(1, std::min<int64_t>(p.N, (int64_t(2) << 20) / per));
}

// col[(n*P + oh*OW + ow), (kh, kw, c)] for images [n0, n1)
static void im2col(const ConvP& p, const float* x, int64_t n0, int64_t n1, float* col) {
  const int64_t K = p.K(), P = p.P();
  parallel_for((n1 - n0) * p.OH, double(p.OW * K), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = n0 + r / p.OH, oh = r % p.OH;
      const float* xn = x + n * p.H * p.W * p.C;
      float* row = col + ((n - n0) * P + oh * p.OW) * K;
      for (int64_t ow = 0; ow < p.OW; ++ow, row += K) {
        float* o = row;
        for (int64_t kh = 0; kh < p.KH; ++kh) {
          const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
          if (ih < 0 || ih >= p.H) {
            std::memset(o, 0, sizeof(float) * p.KW * p.C);
            o += p.KW * p.C;
            continue;
          }
          const float* xr = xn + ih * p.W * p.C;
          if (p.dw == 1) {
            const int64_t iw0 = ow * p.sw - p.pl;
            if (iw0 >= 0 && iw0 + p.KW <= p.W) {
              std::memcpy(o, xr + iw0 * p.C, sizeof(float) * p.KW * p.C);
              o += p.KW * p.C;
              continue;
            }
          }
          for (int64_t kw = 0; kw < p.KW; ++kw, o += p.C) {
            const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
            if (iw < 0 || iw >= p.W) std::memset(o, 0, sizeof(float) * p.C);
            else std::memcpy(o, xr + iw * p.C, sizeof(float) * p.C);
          }
        }
      }
    }
  });
}

// dx += col2im(dcol) for images [n0, n1); dx for these images must be zeroed first.
static void col2im(const ConvP& p, const float* col, int64_t n0, int64_t n1, float* dx) {
  const int64_t K = p.K(), P = p.P();
  parallel_for(n1 - n0, double(P * K), [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) {
      const int64_t n = n0 + i;
      float* xn = dx + n * p.H * p.W * p.C;
      const float* row = col + i * P * K;
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow = 0; ow < p.OW; ++ow, row += K) {
          const float* o = row;
          for (int64_t kh = 0; kh < p.KH; ++kh) {
            const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
            if (ih < 0 || ih >= p.H) {
              o += p.KW * p.C;
              continue;
            }
            float* xr = xn + ih * p.W * p.C;
            for (int64_t kw = 0; kw < p.KW; ++kw, o += p.C) {
              const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
              if (iw < 0 || iw >= p.W) continue;
              float* d = xr + iw * p.C;
              for (int64_t c = 0; c < p.C; ++c) d[c] += o[c];
            }
          }
        }
    }
  });
}

static bool conv_is_pointwise(const ConvP& p) {
  return p.KH == 1 && p.KW == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.OH == p.H && p.OW == p.W;
}

// conv2d(x, w, y, ...15 params, bias|null, act, alpha)
static Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  const float* w = F32(info[1]);
  float* y = F32(info[2]);
  ConvP p = conv_params(info, 3);
  const float* bias = F32orNull(info[18]);
  const int act = int(I(info[19]));
  const float alpha = float(D(info[20]));
  const int64_t K = p.K(), P = p.P();
  if (conv_is_pointwise(p)) {
    gemm(false, false, p.N * P, p.OC, K, x, K, w, p.OC, 0.f, y, p.OC);
  } else {
    const int64_t g = conv_chunk(p);
    float* col = t_col.get(size_t(g * P * K));
    for (int64_t n0 = 0; n0 < p.N; n0 += g) {
      const int64_t n1 = std::min(p.N, n0 + g);
      im2col(p, x, n0, n1, col);
      gemm(false, false, (n1 - n0) * P, p.OC, K, col, K, w, p.OC, 0.f, y + n0 * P * p.OC, p.OC);
    }
  }
  bias_act(y, p.N * P, p.OC, p.OC, bias, act, alpha);
  return info.Env().Undefined();
}

// conv2dBackpropInput(dy, w, dx, ...15 params): dx = col2im(dy W^T)
static Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  const float* dy = F32(info[0]);
  const float* w = F32(info[1]);
  float* dx = F32(info[2]);
  ConvP p = conv_params(info, 3);
  const int64_t K = p.K(), P = p.P();
  if (conv_is_pointwise(p)) {
    gemm(false, true, p.N * P, K, p.OC, dy, p.OC, w, p.OC, 0.f, dx, K);
    return info.Env().Undefined();
  }
  std::memset(dx, 0, sizeof(float) * p.N * p.H * p.W * p.C);
  const int64_t g = conv_chunk(p);
  float* col = t_col.get(size_t(g * P * K));
  for (int64_t n0 = 0; n0 < p.N; n0 += g) {
    const int64_t n1 = std::min(p.N, n0 + g);
    gemm(false, true, (n1 - n0) * P, K, p.OC, dy + n0 * P * p.OC, p.OC, w, p.OC, 0.f, col, K);
    col2im(p, col, n0, n1, dx);
  }
  return info.Env().Undefined();
}

// conv2dBackpropFilter(x, dy, dw, ...15 params): dw = im2col(x)^T dy
static Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  const float* dy = F32(info[1]);
  float* dw = F32(info[2]);
  ConvP p = conv_params(info, 3);
  const int64_t K = p.K(), P = p.P();
  if (conv_is_pointwise(p)) {
    gemm(true, false, K, p.OC, p.N * P, x, K, dy, p.OC, 0.f, dw, p.OC);
    return info.Env().Undefined();
  }
  const int64_t g = conv_chunk(p);
  float* col = t_col.get(size_t(g * P * K));
  for (int64_t n0 = 0; n0 < p.N; n0 += g) {
    const int64_t n1 = std::min(p.N, n0 + g);
    im2col(p, x, n0, n1, col);
    gemm(true, false, K, p.OC, (n1 - n0) * P, col, K, dy + n0 * P * p.OC, p.OC, n0 == 0 ? 0.f : 1.f, dw, p.OC);
  }
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- max pooling (NHWC)

struct PoolP {
  int64_t N, H, W, C, FH, FW, sh, sw, pt, pl, dh, dw, OH, OW;
};
static PoolP pool_params(const Napi::CallbackInfo& info, int at) {
  PoolP p;
  int64_t* f[] = {&p.N, &p.H, &p.W, &p.C, &p.FH, &p.FW, &p.sh, &p.sw, &p.pt, &p.pl, &p.dh, &p.dw, &p.OH, &p.OW};
  for (int i = 0; i < 14; ++i) *f[i] = I(info[at + i]);
  return p;
}

// maxPool(x, y, ...14 params). Like tfjs: first maximum in window order wins, NaN propagates.
static Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  float* y = F32(info[1]);
  PoolP p = pool_params(info, 2);
  parallel_for(p.N * p.OH, double(p.OW * p.C * p.FH * p.FW), [&](int64_t r0, int64_t r1) {
    std::vector<float> best(p.C);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / p.OH, oh = r % p.OH;
      const float* xn = x + n * p.H * p.W * p.C;
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        for (int64_t fh = 0; fh < p.FH; ++fh) {
          const int64_t ih = oh * p.sh - p.pt + fh * p.dh;
          if (ih < 0 || ih >= p.H) continue;
          for (int64_t fw = 0; fw < p.FW; ++fw) {
            const int64_t iw = ow * p.sw - p.pl + fw * p.dw;
            if (iw < 0 || iw >= p.W) continue;
            const float* v = xn + (ih * p.W + iw) * p.C;
            for (int64_t c = 0; c < p.C; ++c) {
              const float a = v[c];
              best[c] = (a > best[c] || std::isnan(a)) ? a : best[c];
            }
          }
        }
        std::memcpy(y + ((n * p.OH + oh) * p.OW + ow) * p.C, best.data(), sizeof(float) * p.C);
      }
    }
  });
  return info.Env().Undefined();
}

// maxPoolGrad(dy, x, dx, ...14 params): routes dy to the first maximum of each window.
static Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  const float* dy = F32(info[0]);
  const float* x = F32(info[1]);
  float* dx = F32(info[2]);
  PoolP p = pool_params(info, 3);
  // Fast path: non-overlapping windows (stride == size, no padding, no dilation): every input
  // cell belongs to at most one window, so dx is written once, without a separate zeroing pass.
  if (p.sh == p.FH && p.sw == p.FW && p.pt == 0 && p.pl == 0 && p.dh == 1 && p.dw == 1 && p.FH * p.FW <= 64 &&
      p.OH * p.FH <= p.H && p.OW * p.FW <= p.W) {
    const bool covered = p.OH * p.FH == p.H && p.OW * p.FW == p.W;
    parallel_for(p.N * p.OH, double(p.OW * p.C * p.FH * p.FW), [&](int64_t r0, int64_t r1) {
      std::vector<float> best(p.C);
      std::vector<int32_t> win(p.C);
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / p.OH, oh = r % p.OH;
        const float* xn = x + n * p.H * p.W * p.C;
        float* dxn = dx + n * p.H * p.W * p.C;
        if (!covered) {
          // rows of this window band beyond the last full window column, and trailing rows
          for (int64_t fh = 0; fh < p.FH; ++fh) {
            float* row = dxn + ((oh * p.FH + fh) * p.W + p.OW * p.FW) * p.C;
            std::memset(row, 0, sizeof(float) * (p.W - p.OW * p.FW) * p.C);
          }
          if (oh == p.OH - 1)
            std::memset(dxn + (p.OH * p.FH) * p.W * p.C, 0, sizeof(float) * (p.H - p.OH * p.FH) * p.W * p.C);
        }
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          float* __restrict bs = best.data();
          int32_t* __restrict wi = win.data();
          for (int64_t c = 0; c < p.C; ++c) {
            bs[c] = -std::numeric_limits<float>::infinity();
            wi[c] = -1;
          }
          int32_t k = 0;
          for (int64_t fh = 0; fh < p.FH; ++fh)
            for (int64_t fw = 0; fw < p.FW; ++fw, ++k) {
              const float* __restrict v = xn + ((oh * p.FH + fh) * p.W + ow * p.FW + fw) * p.C;
              for (int64_t c = 0; c < p.C; ++c) {
                const bool gt = v[c] > bs[c];
                bs[c] = gt ? v[c] : bs[c];
                wi[c] = gt ? k : wi[c];
              }
            }
          const float* __restrict g = dy + ((n * p.OH + oh) * p.OW + ow) * p.C;
          k = 0;
          for (int64_t fh = 0; fh < p.FH; ++fh)
            for (int64_t fw = 0; fw < p.FW; ++fw, ++k) {
              float* __restrict d = dxn + ((oh * p.FH + fh) * p.W + ow * p.FW + fw) * p.C;
              for (int64_t c = 0; c < p.C; ++c) d[c] = wi[c] == k ? g[c] : 0.f;
            }
        }
      }
    });
    return info.Env().Undefined();
  }
  std::memset(dx, 0, sizeof(float) * p.N * p.H * p.W * p.C);
  // windows of different images never overlap: split over images
  parallel_for(p.N, double(p.OH * p.OW * p.C * p.FH * p.FW), [&](int64_t n0, int64_t n1) {
    std::vector<float> best(p.C);
    std::vector<int64_t> pos(p.C);
    for (int64_t n = n0; n < n1; ++n) {
      const float* xn = x + n * p.H * p.W * p.C;
      float* dxn = dx + n * p.H * p.W * p.C;
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(pos.begin(), pos.end(), int64_t(-1));
          for (int64_t fh = 0; fh < p.FH; ++fh) {
            const int64_t ih = oh * p.sh - p.pt + fh * p.dh;
            if (ih < 0 || ih >= p.H) continue;
            for (int64_t fw = 0; fw < p.FW; ++fw) {
              const int64_t iw = ow * p.sw - p.pl + fw * p.dw;
              if (iw < 0 || iw >= p.W) continue;
              const int64_t off = (ih * p.W + iw) * p.C;
              const float* v = xn + off;
              for (int64_t c = 0; c < p.C; ++c)
                if (v[c] > best[c]) {
                  best[c] = v[c];
                  pos[c] = off + c;
                }
            }
          }
          const float* g = dy + ((n * p.OH + oh) * p.OW + ow) * p.C;
          for (int64_t c = 0; c < p.C; ++c)
            if (pos[c] >= 0) dxn[pos[c]] += g[c];
        }
    }
  });
  return info.Env().Undefined();
}

// avgPool(x, y, ...14 params): average over the valid window cells (tfjs semantics).
static Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  float* y = F32(info[1]);
  PoolP p = pool_params(info, 2);
  parallel_for(p.N * p.OH, double(p.OW * p.C * p.FH * p.FW), [&](int64_t r0, int64_t r1) {
    std::vector<float> acc(p.C);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / p.OH, oh = r % p.OH;
      const float* xn = x + n * p.H * p.W * p.C;
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        std::fill(acc.begin(), acc.end(), 0.f);
        int cnt = 0;
        for (int64_t fh = 0; fh < p.FH; ++fh) {
          const int64_t ih = oh * p.sh - p.pt + fh * p.dh;
          if (ih < 0 || ih >= p.H) continue;
          for (int64_t fw = 0; fw < p.FW; ++fw) {
            const int64_t iw = ow * p.sw - p.pl + fw * p.dw;
            if (iw < 0 || iw >= p.W) continue;
            const float* v = xn + (ih * p.W + iw) * p.C;
            for (int64_t c = 0; c < p.C; ++c) acc[c] += v[c];
            ++cnt;
          }
        }
        float* o = y + ((n * p.OH + oh) * p.OW + ow) * p.C;
        for (int64_t c = 0; c < p.C; ++c) o[c] = acc[c] / float(cnt);
      }
    }
  });
  return info.Env().Undefined();
}


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

// ---------------------------------------------------------------- softmax / reductions

// softmax(x, y, rows, cols, log)
static Napi::Value Softmax(const Napi::CallbackInfo& info) {
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
static Napi::Value Reduce(const Napi::CallbackInfo& info) {
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

// ---------------------------------------------------------------- elementwise

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
static Napi::Value Binary(const Napi::CallbackInfo& info) {
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
static Napi::Value Unary(const Napi::CallbackInfo& info) {
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
static Napi::Value AddN(const Napi::CallbackInfo& info) {
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

// ---------------------------------------------------------------- data movement (any 4-byte type)

// transpose(x, y, shape:number[], perm:number[])
static Napi::Value Transpose(const Napi::CallbackInfo& info) {
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
static Napi::Value Tile(const Napi::CallbackInfo& info) {
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
static Napi::Value Concat(const Napi::CallbackInfo& info) {
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
static Napi::Value Gather(const Napi::CallbackInfo& info) {
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
static Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
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

// ---------------------------------------------------------------- batch normalisation

// batchNorm(x, mean, variance, offset|null, scale|null, out, eps): tfjs's FusedBatchNorm with its
// flat cyclic broadcasting (parameter i is used for element j when j % len == i). Computed in
// double and rounded once, like tfjs-cpu's kernel, so the result is bit-identical to it.
static Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
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

static Napi::Value BatchNormGrad(const Napi::CallbackInfo& info) {
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

// aleaDropout(out, lanes, block, threshold, scale): tfjs's dropout multiplier (0 or `scale`) from
// seedrandom's alea stream. Alea is a lag-3 multiply-with-carry generator (base 2^32, multiplier
// 2091639): x[n+3] = (a x[n] + c[n]) mod 2^32, c[n+1] = floor((a x[n] + c[n]) / 2^32), draw x / 2^32,
// which its double arithmetic computes exactly. Each draw waits on the previous one, so one
// stream runs at the latency of that chain; here `lanes` holds the states (x0, x1, x2, c) of
// several positions of the same stream, `block` draws apart (jumped to by the caller,
// src/engine/dropoutMask.ts), and the lanes run side by side. Lane j writes out[j·block …).
// The multiplier is `scale` where the draw is >= threshold (the mask test as an integer compare).
static Napi::Value AleaDropout(const Napi::CallbackInfo& info) {
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

// reluGrad(x, dy, out): tfjs's Relu gradient dy · step(x) in one pass (step(NaN) = NaN).
static Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
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
static Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
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
static Napi::Value LayerNormGradX(const Napi::CallbackInfo& info) {
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
static Napi::Value LayerNormGradGamma(const Napi::CallbackInfo& info) {
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

// ---------------------------------------------------------------- Adam

// adam(value, m, v, g, newValue, newM, newV, lr, beta1, beta2, eps, oneMinusAccBeta1, oneMinusAccBeta2,
//      oneMinusBeta1, oneMinusBeta2)
// Bit-identical to tfjs's AdamOptimizer: the same float32 operations in the same order (each
// tfjs op rounds to float32; no fused multiply-add, true divisions, and 1-beta rounded from
// double by the caller as tfjs does), so switching optimizers never changes a result.
// Outputs may alias inputs (in-place update).
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
static Napi::Value Adam(const Napi::CallbackInfo& info) {
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

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace dst;
#define FN(name, f) exports.Set(name, Napi::Function::New(env, f, name))
  FN("info", Info);
  FN("setThreads", SetThreads);
  FN("setBlas", SetBlas);
  FN("gemm", Gemm);
  FN("conv2d", Conv2D);
  FN("conv2dBackpropInput", Conv2DBackpropInput);
  FN("conv2dBackpropFilter", Conv2DBackpropFilter);
  FN("maxPool", MaxPool);
  FN("maxPoolGrad", MaxPoolGrad);
  FN("avgPool", AvgPool);
  FN("softmax", Softmax);
  FN("reduce", Reduce);
  FN("binary", Binary);
  FN("unary", Unary);
  FN("addN", AddN);
  FN("transpose", Transpose);
  FN("gather", Gather);
  FN("tile", Tile);
  FN("concat", Concat);
  FN("segmentSum", SegmentSum);
  FN("adam", Adam);
  FN("batchNorm", BatchNorm);
  FN("layerNorm", LayerNorm);
  FN("layerNormGradX", LayerNormGradX);
  FN("layerNormGradGamma", LayerNormGradGamma);
  FN("reluGrad", ReluGrad);
  FN("aleaDropout", AleaDropout);
  FN("batchNormGrad", BatchNormGrad);
#undef FN
  const char* gt = getenv("DISTILLERY_GEMM_THREADS");
  g_blas_threads = gt && std::string(gt) == "blas";
#ifdef DISTILLERY_OPENBLAS
  openblas_set_num_threads(1);
#endif
  return exports;
}

NODE_API_MODULE(distillery_native, Init)
