// Convolution (im2col/col2im + GEMM) and pooling, NHWC with HWIO filters.
#include "gemm.h"
#include "exports.h"

namespace dst {

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
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
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
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
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
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
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

// ---------------------------------------------------------------- pooling (NHWC)

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
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
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
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
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
Napi::Value AvgPool(const Napi::CallbackInfo& info) {
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

}  // namespace dst
