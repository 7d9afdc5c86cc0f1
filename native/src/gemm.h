// The GEMM front end shared by the matmul and convolution kernels: one product on the calling
// thread (OpenBLAS or the portable GEMM), the split of a product across the engine's threads,
// and the bias + activation epilogue.
#pragma once
#include "common.h"

namespace dst {

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

// One k-split buffer per thread for every file that multiplies (an inline variable).
inline thread_local AlignedBuf t_ksplit;

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

}  // namespace dst
