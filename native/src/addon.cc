// N-API surface of the addon: `info()`, `gemm(...)`, the convolutions, `adam(...)`, `reduceSum(...)` and
// `gatedPath(...)` and `gatedPathVjp(...)`, which read and write float32 matrices in place inside an ArrayBuffer (the wasm backend's heap) at
// byte offsets the caller takes from the backend's tensor table; and `adamTf1(...)` and `softUpdate(...)`, on JavaScript
// Float32Arrays.
#include <node_api.h>

#include <algorithm>
#include <string>
#include <vector>

#include "adam.h"
#include "conv.h"
#include "gated_path.h"
#include "gemm.h"
#include "reduce.h"
#include "soft_update.h"
#include "thread_pool.h"

namespace {

using icnn::GemmArgs;

napi_value throwError(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, message.c_str());
  return nullptr;
}

bool getDouble(napi_env env, napi_value v, double* out) { return napi_get_value_double(env, v, out) == napi_ok; }

bool getInt(napi_env env, napi_value v, int* out) {
  return napi_get_value_int32(env, v, reinterpret_cast<int32_t*>(out)) == napi_ok;
}

bool getBool(napi_env env, napi_value v, bool* out) { return napi_get_value_bool(env, v, out) == napi_ok; }

// The data and length of a typed array of element type T (napi type `expected`); false for anything else.
template <typename T>
bool getTypedArray(napi_env env, napi_value v, napi_typedarray_type expected, T** data, size_t* length) {
  napi_typedarray_type type;
  void* raw = nullptr;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset) != napi_ok || type != expected) return false;
  *data = static_cast<T*>(raw);
  return true;
}

bool getInt32Array(napi_env env, napi_value v, const int** data, size_t* length) {
  return getTypedArray(env, v, napi_int32_array, data, length);
}

bool getFloat64Array(napi_env env, napi_value v, const double** data, size_t* length) {
  return getTypedArray(env, v, napi_float64_array, data, length);
}

bool getFloat32Array(napi_env env, napi_value v, float** data, size_t* length) {
  return getTypedArray(env, v, napi_float32_array, data, length);
}

napi_value info(napi_env env, napi_callback_info) {
  const icnn::KernelSet& ks = icnn::activeKernels();
  napi_value out, isa, threads, mr, nr;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, ks.isa, NAPI_AUTO_LENGTH, &isa);
  napi_create_int32(env, icnn::ThreadPool::instance().threads(), &threads);
  napi_create_int32(env, ks.mr, &mr);
  napi_create_int32(env, ks.nr, &nr);
  napi_set_named_property(env, out, "isa", isa);
  napi_set_named_property(env, out, "threads", threads);
  napi_set_named_property(env, out, "mr", mr);
  napi_set_named_property(env, out, "nr", nr);
  return out;
}

// Whether [offsetBytes, offsetBytes + 4·count) lies inside a buffer of `size` bytes and is 4-byte aligned.
bool fits(double offsetBytes, double count, size_t size) {
  return offsetBytes >= 0 && static_cast<long long>(offsetBytes) % 4 == 0 && offsetBytes + 4.0 * count <= size;
}

// The call's arguments, exactly `count` of them into argv, and the heap ArrayBuffer that argument 0 must be.
bool heapCall(napi_env env, napi_callback_info cbinfo, size_t count, napi_value* argv, void** heap, size_t* heapSize) {
  size_t argc = count;
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr);
  return argc == count && napi_get_arraybuffer_info(env, argv[0], heap, heapSize) == napi_ok;
}

double maxOffset(const int* offsets, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = offsets[i] > m ? offsets[i] : m;
  return m;
}

// gemm(heap, aByteOffset, bByteOffset, cByteOffset, aOffsets, bOffsets, m, n, k, transA, transB,
//      biasByteOffset (-1: none), biasLen, activation, alpha, preluByteOffset (-1: none), preluLen)
napi_value gemm(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 17;
  napi_value argv[17];
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr);
  if (argc != 17) return throwError(env, "icnn native gemm: expected 17 arguments");
  void* heap = nullptr;
  size_t heapSize = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heapSize) != napi_ok) {
    return throwError(env, "icnn native gemm: argument 0 must be an ArrayBuffer");
  }
  double aOff, bOff, cOff, biasOff, alpha, preluOff;
  const int *aOffsets, *bOffsets;
  size_t aCount, bCount;
  int m, n, k, biasLen, activation, preluLen;
  bool transA, transB;
  const bool ok = getDouble(env, argv[1], &aOff) && getDouble(env, argv[2], &bOff) && getDouble(env, argv[3], &cOff) &&
                  getInt32Array(env, argv[4], &aOffsets, &aCount) && getInt32Array(env, argv[5], &bOffsets, &bCount) &&
                  getInt(env, argv[6], &m) && getInt(env, argv[7], &n) && getInt(env, argv[8], &k) &&
                  getBool(env, argv[9], &transA) && getBool(env, argv[10], &transB) &&
                  getDouble(env, argv[11], &biasOff) && getInt(env, argv[12], &biasLen) &&
                  getInt(env, argv[13], &activation) && getDouble(env, argv[14], &alpha) &&
                  getDouble(env, argv[15], &preluOff) && getInt(env, argv[16], &preluLen);
  if (!ok || aCount != bCount || m < 0 || n < 0 || k < 0) return throwError(env, "icnn native gemm: bad arguments");
  const size_t batch = aCount;
  const bool hasBias = biasOff >= 0;
  const bool hasPrelu = preluOff >= 0;
  const bool inBounds =
      fits(aOff, maxOffset(aOffsets, batch) + static_cast<double>(m) * k, heapSize) &&
      fits(bOff, maxOffset(bOffsets, batch) + static_cast<double>(k) * n, heapSize) &&
      fits(cOff, static_cast<double>(batch) * m * n, heapSize) && (!hasBias || fits(biasOff, biasLen, heapSize)) &&
      (!hasPrelu || fits(preluOff, preluLen, heapSize));
  if (!inBounds) return throwError(env, "icnn native gemm: a matrix lies outside the heap buffer");
  auto* base = static_cast<char*>(heap);
  GemmArgs args{reinterpret_cast<const float*>(base + static_cast<size_t>(aOff)),
                reinterpret_cast<const float*>(base + static_cast<size_t>(bOff)),
                reinterpret_cast<float*>(base + static_cast<size_t>(cOff)),
                static_cast<int>(batch), aOffsets, bOffsets, m, n, k, transA, transB,
                hasBias ? reinterpret_cast<const float*>(base + static_cast<size_t>(biasOff)) : nullptr,
                biasLen, activation, static_cast<float>(alpha),
                hasPrelu ? reinterpret_cast<const float*>(base + static_cast<size_t>(preluOff)) : nullptr, preluLen};
  icnn::gemm(args);
  return nullptr;
}

// conv2d(heap, xByteOffset, filterByteOffset, outByteOffset, dims: Int32Array of 15: batch, inH, inW, inC,
//        filterH, filterW, outC, outH, outW, strideH, strideW, dilationH, dilationW, padTop, padLeft);
// conv2dBackpropInput with the same arguments but dy [batch, outH, outW, outC] in place of x and dx as the output;
// conv2dBackpropFilter(heap, x, dy, dW, dims): dy in place of the filter and dW as the output.
enum class Convolution { kForward, kBackpropInput, kBackpropFilter };

napi_value convolution(napi_env env, napi_callback_info cbinfo, Convolution kind) {
  const char* what = kind == Convolution::kBackpropInput    ? "icnn native conv2dBackpropInput"
                     : kind == Convolution::kBackpropFilter ? "icnn native conv2dBackpropFilter"
                                                            : "icnn native conv2d";
  napi_value argv[5];
  void* heap = nullptr;
  size_t heapSize = 0;
  double xOff, fOff, oOff;
  const int* d;
  size_t nd;
  const bool ok = heapCall(env, cbinfo, 5, argv, &heap, &heapSize) &&
                  getDouble(env, argv[1], &xOff) && getDouble(env, argv[2], &fOff) && getDouble(env, argv[3], &oOff) &&
                  getInt32Array(env, argv[4], &d, &nd) && nd == 15 && std::all_of(d, d + 15, [](int v) { return v >= 0; });
  if (!ok) return throwError(env, (std::string(what) + ": bad arguments").c_str());
  const double inSize = static_cast<double>(d[0]) * d[1] * d[2] * d[3];
  const double filterSize = static_cast<double>(d[4]) * d[5] * d[3] * d[6];
  const double outSize = static_cast<double>(d[0]) * d[7] * d[8] * d[6];
  // The sizes of the first (x or dy), second (filter or dy) and written (out, dx or dW) tensors.
  const double firstSize = kind == Convolution::kBackpropInput ? outSize : inSize;
  const double secondSize = kind == Convolution::kBackpropFilter ? outSize : filterSize;
  const double writeSize = kind == Convolution::kBackpropInput ? inSize : kind == Convolution::kBackpropFilter ? filterSize : outSize;
  if (!fits(xOff, firstSize, heapSize) || !fits(fOff, secondSize, heapSize) || !fits(oOff, writeSize, heapSize)) {
    return throwError(env, (std::string(what) + ": a tensor lies outside the heap buffer").c_str());
  }
  auto* base = static_cast<char*>(heap);
  icnn::ConvArgs args{reinterpret_cast<const float*>(base + static_cast<size_t>(xOff)),
                      reinterpret_cast<const float*>(base + static_cast<size_t>(fOff)),
                      reinterpret_cast<float*>(base + static_cast<size_t>(oOff)),
                      d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14]};
  switch (kind) {
    case Convolution::kBackpropInput: icnn::conv2dBackpropInput(args); break;
    case Convolution::kBackpropFilter: icnn::conv2dBackpropFilter(args); break;
    default: icnn::conv2d(args); break;
  }
  return nullptr;
}

napi_value conv2d(napi_env env, napi_callback_info cbinfo) { return convolution(env, cbinfo, Convolution::kForward); }

napi_value conv2dBackpropInput(napi_env env, napi_callback_info cbinfo) {
  return convolution(env, cbinfo, Convolution::kBackpropInput);
}

napi_value conv2dBackpropFilter(napi_env env, napi_callback_info cbinfo) {
  return convolution(env, cbinfo, Convolution::kBackpropFilter);
}

// adam(heap, byte offsets of value, m, v, grad, newValue, newM, newV, count, β1, 1 − β1, β2, 1 − β2, 1 − β1^t,
//      1 − β2^t, ε, −lr): one fused Adam step (adam.h), inputs and outputs in place inside the heap.
napi_value adam(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[17];
  void* heap = nullptr;
  size_t heapSize = 0;
  double offsets[7], count, scalars[8];
  bool ok = heapCall(env, cbinfo, 17, argv, &heap, &heapSize);
  for (int i = 0; ok && i < 7; i++) ok = getDouble(env, argv[1 + i], &offsets[i]);
  ok = ok && getDouble(env, argv[8], &count) && count >= 0;
  for (int i = 0; ok && i < 8; i++) ok = getDouble(env, argv[9 + i], &scalars[i]);
  if (!ok) return throwError(env, "icnn native adam: bad arguments");
  for (double off : offsets) {
    if (!fits(off, count, heapSize)) return throwError(env, "icnn native adam: a tensor lies outside the heap buffer");
  }
  auto* base = static_cast<char*>(heap);
  auto at = [&](int i) { return reinterpret_cast<float*>(base + static_cast<size_t>(offsets[i])); };
  icnn::AdamArgs args{at(0), at(1), at(2), at(3), at(4), at(5), at(6), static_cast<size_t>(count),
                      static_cast<float>(scalars[0]), static_cast<float>(scalars[1]), static_cast<float>(scalars[2]),
                      static_cast<float>(scalars[3]), static_cast<float>(scalars[4]), static_cast<float>(scalars[5]),
                      static_cast<float>(scalars[6]), static_cast<float>(scalars[7])};
  icnn::adamStep(args);
  return nullptr;
}

// reduceSum(heap, xByteOffset, outByteOffset, outer, inner, reduceOuter): reduce.h in place inside the heap.
napi_value reduceSum(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[6];
  void* heap = nullptr;
  size_t heapSize = 0;
  double xOff, outOff, outer, inner;
  bool reduceOuter;
  const bool ok = heapCall(env, cbinfo, 6, argv, &heap, &heapSize) &&
                  getDouble(env, argv[1], &xOff) && getDouble(env, argv[2], &outOff) && getDouble(env, argv[3], &outer) &&
                  getDouble(env, argv[4], &inner) && getBool(env, argv[5], &reduceOuter) && outer >= 0 && inner >= 0;
  if (!ok) return throwError(env, "icnn native reduceSum: bad arguments");
  if (!fits(xOff, outer * inner, heapSize) || !fits(outOff, reduceOuter ? inner : outer, heapSize)) {
    return throwError(env, "icnn native reduceSum: a tensor lies outside the heap buffer");
  }
  auto* base = static_cast<char*>(heap);
  icnn::reduceSum(reinterpret_cast<const float*>(base + static_cast<size_t>(xOff)),
                  reinterpret_cast<float*>(base + static_cast<size_t>(outOff)), static_cast<size_t>(outer),
                  static_cast<size_t>(inner), reduceOuter);
  return nullptr;
}

// The arguments gatedPath and gatedPathVjp share: (heap, offsets: Float64Array, dims: Int32Array, negativeSlope,
// strongConvexity). dims: rows, d, layers, then each layer's width (the last 1). offsets, in bytes (−1: absent): `head`
// leading ones (the first is y), then `perLayer` per layer, starting with yGate, passthrough, uTerm, zGate, convex (the
// last two −1 for layer 0) and, for the VJP, the five gradients of the same shapes in the same order.
struct PathCall {
  char* base = nullptr;
  size_t heapSize = 0;
  const double* off = nullptr;
  int rows = 0, d = 0, layers = 0;
  float slope = 0, alpha = 0;
  std::vector<icnn::GatedLayerArgs> layer;
  std::vector<icnn::GatedLayerGrads> grads;

  float* at(double o) const { return o < 0 ? nullptr : reinterpret_cast<float*>(base + static_cast<size_t>(o)); }
  bool fitsAt(double o, double count) const { return fits(o, count, heapSize); }
};

// Reads and bounds-checks a call; "" when it is good, else what was wrong.
std::string readPathCall(napi_env env, napi_callback_info cbinfo, int head, int perLayer, PathCall* c) {
  napi_value argv[5];
  void* heap = nullptr;
  const int* dims;
  size_t nOff, nDims;
  double slope, alpha;
  bool ok = heapCall(env, cbinfo, 5, argv, &heap, &c->heapSize) && getFloat64Array(env, argv[1], &c->off, &nOff) &&
            getInt32Array(env, argv[2], &dims, &nDims) && getDouble(env, argv[3], &slope) && getDouble(env, argv[4], &alpha) &&
            nDims >= 4 && std::all_of(dims, dims + nDims, [](int v) { return v >= 0; });
  c->rows = ok ? dims[0] : 0, c->d = ok ? dims[1] : 0, c->layers = ok ? dims[2] : 0;
  const int layers = c->layers;
  ok = ok && layers >= 1 && nDims == static_cast<size_t>(3 + layers) && nOff == static_cast<size_t>(head + perLayer * layers) &&
       dims[2 + layers] == 1 && c->d >= 1;
  if (!ok) return "bad arguments";
  c->base = static_cast<char*>(heap);
  c->slope = static_cast<float>(slope), c->alpha = static_cast<float>(alpha);
  const double rd = static_cast<double>(c->rows) * c->d;
  c->layer.resize(layers);
  if (perLayer == 10) c->grads.resize(layers);
  for (int i = 0; i < layers; i++) {
    const int width = dims[3 + i];
    const double prev = i > 0 ? dims[2 + i] : 0;
    const double sizes[5] = {rd, static_cast<double>(c->d) * width, static_cast<double>(c->rows) * width, c->rows * prev, prev * width};
    for (int set = 0; set < perLayer / 5; set++) {
      const double* o = c->off + head + perLayer * i + 5 * set;
      const bool convex = i > 0 && o[3] >= 0 && o[4] >= 0;
      const bool inBounds = c->fitsAt(o[0], sizes[0]) && c->fitsAt(o[1], sizes[1]) && c->fitsAt(o[2], sizes[2]) &&
                            (convex ? c->fitsAt(o[3], sizes[3]) && c->fitsAt(o[4], sizes[4]) : o[3] < 0 && o[4] < 0);
      if (!inBounds) return "a tensor lies outside the heap buffer";
      float* t[5] = {c->at(o[0]), c->at(o[1]), c->at(o[2]), convex ? c->at(o[3]) : nullptr, convex ? c->at(o[4]) : nullptr};
      if (set == 0) c->layer[i] = {width, t[0], t[1], t[2], t[3], t[4]};
      else c->grads[i] = {t[0], t[1], t[2], t[3], t[4]};
    }
    if (perLayer == 10 && (c->layer[i].convex == nullptr) != (c->grads[i].convex == nullptr)) return "bad arguments";
  }
  return "";
}

// gatedPath(heap, offsets, dims, negativeSlope, strongConvexity): gated_path.h's energies and ∇_y f in place inside the
// heap. offsets: y, energy, grad (−1: energies only), then five per layer (PathCall).
napi_value gatedPath(napi_env env, napi_callback_info cbinfo) {
  PathCall c;
  const std::string error = readPathCall(env, cbinfo, 3, 5, &c);
  const double rd = static_cast<double>(c.rows) * c.d;
  if (!error.empty()) return throwError(env, "icnn native gatedPath: " + error);
  if (!c.fitsAt(c.off[0], rd) || !c.fitsAt(c.off[1], c.rows) || (c.off[2] >= 0 && !c.fitsAt(c.off[2], rd))) {
    return throwError(env, "icnn native gatedPath: a tensor lies outside the heap buffer");
  }
  icnn::gatedPathEnergyGrad(icnn::GatedPathArgs{c.rows, c.d, c.layers, c.layer.data(), c.slope, c.alpha, c.at(c.off[0]),
                                                c.at(c.off[1]), c.at(c.off[2])});
  return nullptr;
}

// gatedPathVjp(heap, offsets, dims, negativeSlope, strongConvexity): gated_path.h's reverse pass in place inside the
// heap. offsets: y, dEnergy, dy, then ten per layer (PathCall).
napi_value gatedPathVjp(napi_env env, napi_callback_info cbinfo) {
  PathCall c;
  const std::string error = readPathCall(env, cbinfo, 3, 10, &c);
  const double rd = static_cast<double>(c.rows) * c.d;
  if (!error.empty()) return throwError(env, "icnn native gatedPathVjp: " + error);
  if (!c.fitsAt(c.off[0], rd) || !c.fitsAt(c.off[1], c.rows) || !c.fitsAt(c.off[2], rd)) {
    return throwError(env, "icnn native gatedPathVjp: a tensor lies outside the heap buffer");
  }
  icnn::gatedPathVjp(icnn::GatedPathArgs{c.rows, c.d, c.layers, c.layer.data(), c.slope, c.alpha, c.at(c.off[0]), nullptr,
                                         c.at(c.off[2])},
                     c.at(c.off[1]), c.grads.data());
  return nullptr;
}

// softUpdate(target, online: Float32Array (same length), tau): soft_update.h's θ' ← θ' − τ(θ' − θ), target in place.
napi_value softUpdate(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr);
  float* target;
  float* online;
  size_t targetLength, onlineLength;
  double tau;
  if (argc != 3 || !getFloat32Array(env, argv[0], &target, &targetLength) || !getFloat32Array(env, argv[1], &online, &onlineLength) ||
      !getDouble(env, argv[2], &tau) || targetLength != onlineLength) {
    return throwError(env, "icnn native softUpdate: expected two Float32Arrays of one length and a number");
  }
  icnn::softUpdate(target, online, targetLength, tau);
  return nullptr;
}

// adamTf1(m, v, params, grad: Float32Array (same length), lrT, β1, 1 − β1, β2, 1 − β2, ε): adam.h's TensorFlow 1
// step on JavaScript arrays, m, v and params updated in place.
napi_value adamTf1(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr);
  float* arrays[4];
  size_t lengths[4];
  double scalars[6];
  bool ok = argc == 10;
  for (int i = 0; ok && i < 4; i++) ok = getFloat32Array(env, argv[i], &arrays[i], &lengths[i]);
  for (int i = 0; ok && i < 6; i++) ok = getDouble(env, argv[4 + i], &scalars[i]);
  if (!ok || lengths[1] != lengths[0] || lengths[2] != lengths[0] || lengths[3] != lengths[0]) {
    return throwError(env, "icnn native adamTf1: expected four Float32Arrays of one length and six numbers");
  }
  icnn::adamTf1Step(icnn::AdamTf1Args{arrays[0], arrays[1], arrays[2], arrays[3], lengths[0], scalars[0], scalars[1],
                                      scalars[2], scalars[3], scalars[4], scalars[5]});
  return nullptr;
}

napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "info", NAPI_AUTO_LENGTH, info, nullptr, &fn);
  napi_set_named_property(env, exports, "info", fn);
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, gemm, nullptr, &fn);
  napi_set_named_property(env, exports, "gemm", fn);
  napi_create_function(env, "conv2d", NAPI_AUTO_LENGTH, conv2d, nullptr, &fn);
  napi_set_named_property(env, exports, "conv2d", fn);
  napi_create_function(env, "conv2dBackpropInput", NAPI_AUTO_LENGTH, conv2dBackpropInput, nullptr, &fn);
  napi_set_named_property(env, exports, "conv2dBackpropInput", fn);
  napi_create_function(env, "softUpdate", NAPI_AUTO_LENGTH, softUpdate, nullptr, &fn);
  napi_set_named_property(env, exports, "softUpdate", fn);
  napi_create_function(env, "conv2dBackpropFilter", NAPI_AUTO_LENGTH, conv2dBackpropFilter, nullptr, &fn);
  napi_set_named_property(env, exports, "conv2dBackpropFilter", fn);
  napi_create_function(env, "adam", NAPI_AUTO_LENGTH, adam, nullptr, &fn);
  napi_set_named_property(env, exports, "adam", fn);
  napi_create_function(env, "reduceSum", NAPI_AUTO_LENGTH, reduceSum, nullptr, &fn);
  napi_set_named_property(env, exports, "reduceSum", fn);
  napi_create_function(env, "adamTf1", NAPI_AUTO_LENGTH, adamTf1, nullptr, &fn);
  napi_set_named_property(env, exports, "adamTf1", fn);
  napi_create_function(env, "gatedPath", NAPI_AUTO_LENGTH, gatedPath, nullptr, &fn);
  napi_set_named_property(env, exports, "gatedPath", fn);
  napi_create_function(env, "gatedPathVjp", NAPI_AUTO_LENGTH, gatedPathVjp, nullptr, &fn);
  napi_set_named_property(env, exports, "gatedPathVjp", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
