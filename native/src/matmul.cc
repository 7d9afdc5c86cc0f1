// Batched matrix products (BatchMatMul, _FusedMatMul, the fused dense op).
#include "gemm.h"
#include "exports.h"

namespace dst {

// gemm(ta, tb, batchA, batchB, batch, M, N, K, A, B, C, bias|null, act, alpha)
// C[b] = op(A[b % batchA]) op(B[b % batchB]) (+bias, act). A per batch: M*K, B: K*N.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
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

}  // namespace dst
