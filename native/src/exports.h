// The functions the addon exports, by the file that defines them. addon.cc registers them from
// one list; their JS signatures are NativeAddon's (src/engine/addon.ts).
#pragma once
#include <napi.h>

namespace dst {

// settings.cc
Napi::Value Info(const Napi::CallbackInfo& info);
Napi::Value SetThreads(const Napi::CallbackInfo& info);
Napi::Value SetBlas(const Napi::CallbackInfo& info);
// matmul.cc
Napi::Value Gemm(const Napi::CallbackInfo& info);
// conv.cc
Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info);
Napi::Value MaxPool(const Napi::CallbackInfo& info);
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info);
Napi::Value AvgPool(const Napi::CallbackInfo& info);
// reductions.cc
Napi::Value Softmax(const Napi::CallbackInfo& info);
Napi::Value Reduce(const Napi::CallbackInfo& info);
// elementwise.cc
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value AddN(const Napi::CallbackInfo& info);
Napi::Value ReluGrad(const Napi::CallbackInfo& info);
// movement.cc
Napi::Value Transpose(const Napi::CallbackInfo& info);
Napi::Value Tile(const Napi::CallbackInfo& info);
Napi::Value Concat(const Napi::CallbackInfo& info);
Napi::Value Gather(const Napi::CallbackInfo& info);
Napi::Value SegmentSum(const Napi::CallbackInfo& info);
// normalization.cc
Napi::Value BatchNorm(const Napi::CallbackInfo& info);
Napi::Value BatchNormGrad(const Napi::CallbackInfo& info);
Napi::Value LayerNorm(const Napi::CallbackInfo& info);
Napi::Value LayerNormGradX(const Napi::CallbackInfo& info);
Napi::Value LayerNormGradGamma(const Napi::CallbackInfo& info);
// dropout.cc
Napi::Value AleaDropout(const Napi::CallbackInfo& info);
// optimizer.cc
Napi::Value Adam(const Napi::CallbackInfo& info);

}  // namespace dst
