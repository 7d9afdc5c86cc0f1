// The project's own portable single-precision GEMM (row-major), used when the machine has
// no BLAS (or when DISTILLERY_BLAS=portable). Goto/BLIS-style: B is packed into 2-vector-wide
// panels, A into 6-row panels, and a 6x16 register-blocked micro-kernel written with GCC
// vector extensions does the work (AVX2/FMA when the compiler targets it; 6x8 on SSE).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pool.h"

namespace dst {

typedef float v8sf __attribute__((vector_size(32)));
// unaligned-access twin for loads/stores through pointers
typedef float v8sf_u __attribute__((vector_size(32), aligned(4), may_alias));
static inline v8sf vload(const float* p) { return *reinterpret_cast<const v8sf_u*>(p); }
static inline void vstore(float* p, v8sf v) { *reinterpret_cast<v8sf_u*>(p) = v; }

// The micro-kernel's vector: 8 floats where the target has 256-bit registers (AVX) or where
// registers are plentiful (not x86), 4 floats for x86 without AVX (the baseline prebuilt
// binary), whose 16 SSE registers cannot hold twelve 8-float accumulators.
#if defined(__AVX__) || !(defined(__x86_64__) || defined(__i386__))
static constexpr int GP_W = 8;
#else
static constexpr int GP_W = 4;
#endif
typedef float gp_vec __attribute__((vector_size(GP_W * 4)));
typedef float gp_vec_u __attribute__((vector_size(GP_W * 4), aligned(4), may_alias));
static inline gp_vec gp_load(const float* p) { return *reinterpret_cast<const gp_vec_u*>(p); }
static inline void gp_vstore(float* p, gp_vec v) { *reinterpret_cast<gp_vec_u*>(p) = v; }

static constexpr int GP_MR = 6, GP_NR = 2 * GP_W, GP_MC = 120, GP_KC = 256, GP_NC = 2048;

struct AlignedBuf {
  float* p = nullptr;
  size_t n = 0;
  ~AlignedBuf() { std::free(p); }
  float* get(size_t want) {
    if (want > n) {
      std::free(p);
      n = want;
      p = static_cast<float*>(std::aligned_alloc(64, ((want * sizeof(float) + 63) / 64) * 64));
    }
    return p;
  }
};

static inline void gp_store(float* c, gp_vec a0, gp_vec a1, float beta, bool first) {
  gp_vec c0, c1;
  if (first && beta == 0.f) {
    c0 = a0;
    c1 = a1;
  } else {
    c0 = gp_load(c);
    c1 = gp_load(c + GP_W);
    if (first && beta != 1.f) {
      c0 *= beta;
      c1 *= beta;
    }
    c0 += a0;
    c1 += a1;
  }
  gp_vstore(c, c0);
  gp_vstore(c + GP_W, c1);
}

// C[0..mr, 0..nr] (+)= A_panel x B_panel over kc; first: C is scaled by beta first.
// The 12 accumulators are named locals so that they stay in registers.
static inline void gp_kernel(int kc, const float* __restrict Ap, const float* __restrict Bp, float* C,
                             int64_t ldc, int mr, int nr, float beta, bool first) {
  const gp_vec z = {};
  gp_vec c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  for (int k = 0; k < kc; ++k) {
    const gp_vec b0 = gp_load(Bp + k * GP_NR), b1 = gp_load(Bp + k * GP_NR + GP_W);
    const float* a = Ap + k * GP_MR;
#define GP_ROW(r)              \
  {                            \
    const float av = a[r];     \
    c##r##0 += av * b0;        \
    c##r##1 += av * b1;        \
  }
    GP_ROW(0) GP_ROW(1) GP_ROW(2) GP_ROW(3) GP_ROW(4) GP_ROW(5)
#undef GP_ROW
  }
  if (mr == GP_MR && nr == GP_NR) {
    gp_store(C, c00, c01, beta, first);
    gp_store(C + ldc, c10, c11, beta, first);
    gp_store(C + 2 * ldc, c20, c21, beta, first);
    gp_store(C + 3 * ldc, c30, c31, beta, first);
    gp_store(C + 4 * ldc, c40, c41, beta, first);
    gp_store(C + 5 * ldc, c50, c51, beta, first);
    return;
  }
  float tmp[GP_MR][GP_NR];
  const gp_vec rows[GP_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < GP_MR; ++r) {
    gp_vstore(tmp[r], rows[r][0]);
    gp_vstore(tmp[r] + GP_W, rows[r][1]);
  }
  for (int r = 0; r < mr; ++r) {
    float* c = C + r * ldc;
    for (int j = 0; j < nr; ++j) {
      if (first) c[j] = (beta == 0.f ? 0.f : beta * c[j]) + tmp[r][j];
      else c[j] += tmp[r][j];
    }
  }
}

// Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into 6-row panels.
static inline void gp_packA(bool ta, const float* A, int64_t lda, int64_t i0, int mc, int64_t p0, int kc,
                            float* out) {
  for (int s = 0; s < mc; s += GP_MR) {
    const int mr = std::min(GP_MR, mc - s);
    float* o = out + int64_t(s) * kc;
    if (!ta) {
      for (int r = 0; r < GP_MR; ++r) {
        if (r < mr) {
          const float* a = A + (i0 + s + r) * lda + p0;
          for (int k = 0; k < kc; ++k) o[k * GP_MR + r] = a[k];
        } else {
          for (int k = 0; k < kc; ++k) o[k * GP_MR + r] = 0.f;
        }
      }
    } else {
      for (int k = 0; k < kc; ++k) {
        const float* a = A + (p0 + k) * lda + i0 + s;
        int r = 0;
        for (; r < mr; ++r) o[k * GP_MR + r] = a[r];
        for (; r < GP_MR; ++r) o[k * GP_MR + r] = 0.f;
      }
    }
  }
}

// Packs rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into GP_NR-column panels.
static inline void gp_packB(bool tb, const float* B, int64_t ldb, int64_t p0, int kc, int64_t j0, int nc,
                            float* out) {
  for (int s = 0; s < nc; s += GP_NR) {
    const int nr = std::min(GP_NR, nc - s);
    float* o = out + int64_t(s) * kc;
    if (!tb) {
      for (int k = 0; k < kc; ++k) {
        const float* b = B + (p0 + k) * ldb + j0 + s;
        int c = 0;
        for (; c < nr; ++c) o[k * GP_NR + c] = b[c];
        for (; c < GP_NR; ++c) o[k * GP_NR + c] = 0.f;
      }
    } else {
      for (int c = 0; c < GP_NR; ++c) {
        if (c < nr) {
          const float* b = B + (j0 + s + c) * ldb + p0;
          for (int k = 0; k < kc; ++k) o[k * GP_NR + c] = b[k];
        } else {
          for (int k = 0; k < kc; ++k) o[k * GP_NR + c] = 0.f;
        }
      }
    }
  }
}

// Single-threaded driver over a row range [m0, m1).
static inline void gp_gemm_rows(bool ta, bool tb, int64_t m0, int64_t m1, int64_t N, int64_t K, const float* A,
                                int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                                const float* Bpacked_all, int64_t jc, int nc, int64_t pc, int kc, bool first) {
  thread_local AlignedBuf abuf;
  float* Ap = abuf.get(size_t(GP_MC) * GP_KC);
  for (int64_t ic = m0; ic < m1; ic += GP_MC) {
    const int mc = int(std::min<int64_t>(GP_MC, m1 - ic));
    gp_packA(ta, A, lda, ic, mc, pc, kc, Ap);
    for (int js = 0; js < nc; js += GP_NR) {
      const int nr = std::min(GP_NR, nc - js);
      const float* Bp = Bpacked_all + int64_t(js) * kc;
      for (int is = 0; is < mc; is += GP_MR) {
        const int mr = std::min(GP_MR, mc - is);
        gp_kernel(kc, Ap + int64_t(is) * kc, Bp, C + (ic + is) * ldc + jc + js, ldc, mr, nr, beta, first);
      }
    }
  }
  (void)N;
  (void)K;
  (void)B;
  (void)ldb;
}

// C = A' B' + beta C  (alpha is always 1 here). `threads` > 1 splits rows across the pool.
static inline void gemm_portable(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc, bool parallel) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    return;
  }
  thread_local AlignedBuf bbuf;
  for (int64_t jc = 0; jc < N; jc += GP_NC) {
    const int nc = int(std::min<int64_t>(GP_NC, N - jc));
    const int ncr = ((nc + GP_NR - 1) / GP_NR) * GP_NR;
    for (int64_t pc = 0; pc < K; pc += GP_KC) {
      const int kc = int(std::min<int64_t>(GP_KC, K - pc));
      float* Bp = bbuf.get(size_t(ncr) * kc);
      gp_packB(tb, B, ldb, pc, kc, jc, nc, Bp);
      const bool first = pc == 0;
      const double work = double(M) * nc * kc;
      if (parallel && work > 2e5 && M >= 2 * GP_MR) {
        // split rows into multiples of MR
        const int64_t blocks = (M + GP_MR - 1) / GP_MR;
        parallel_for(blocks, 1e9, [&](int64_t b0, int64_t b1) {
          gp_gemm_rows(ta, tb, b0 * GP_MR, std::min(M, b1 * GP_MR), N, K, A, lda, B, ldb, beta, C, ldc, Bp, jc,
                       nc, pc, kc, first);
        });
      } else {
        gp_gemm_rows(ta, tb, 0, M, N, K, A, lda, B, ldb, beta, C, ldc, Bp, jc, nc, pc, kc, first);
      }
    }
  }
}

}  // namespace dst
