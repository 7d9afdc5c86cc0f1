// Distillery native kernels: an N-API addon that works in place on the Float32Array /
// Int32Array buffers of tfjs's cpu backend (no copies). Every entry point is synchronous
// and is called from the Node main thread only; work is split over a small pool (pool.h).
//
// This file is the module: it registers every export from one list. The kernels live in one
// file per family (settings, matmul, conv, reductions, elementwise, movement, normalization,
// dropout, optimizer), their shared helpers in headers (common.h, gemm.h, vexp.h,
// gemm_portable.h, pool.h).
#include "common.h"
#include "exports.h"

namespace {

struct Export {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

const Export kExports[] = {
    {"info", dst::Info},
    {"setThreads", dst::SetThreads},
    {"setBlas", dst::SetBlas},
    {"gemm", dst::Gemm},
    {"conv2d", dst::Conv2D},
    {"conv2dBackpropInput", dst::Conv2DBackpropInput},
    {"conv2dBackpropFilter", dst::Conv2DBackpropFilter},
    {"maxPool", dst::MaxPool},
    {"maxPoolGrad", dst::MaxPoolGrad},
    {"avgPool", dst::AvgPool},
    {"softmax", dst::Softmax},
    {"reduce", dst::Reduce},
    {"binary", dst::Binary},
    {"unary", dst::Unary},
    {"addN", dst::AddN},
    {"reluGrad", dst::ReluGrad},
    {"transpose", dst::Transpose},
    {"tile", dst::Tile},
    {"concat", dst::Concat},
    {"gather", dst::Gather},
    {"segmentSum", dst::SegmentSum},
    {"batchNorm", dst::BatchNorm},
    {"batchNormGrad", dst::BatchNormGrad},
    {"layerNorm", dst::LayerNorm},
    {"layerNormGradX", dst::LayerNormGradX},
    {"layerNormGradGamma", dst::LayerNormGradGamma},
    {"aleaDropout", dst::AleaDropout},
    {"adam", dst::Adam},
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const Export& e : kExports) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  const char* gt = getenv("DISTILLERY_GEMM_THREADS");
  dst::g_blas_threads = gt && std::string(gt) == "blas";
#ifdef DISTILLERY_OPENBLAS
  openblas_set_num_threads(1);
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(distillery_native, Init)
