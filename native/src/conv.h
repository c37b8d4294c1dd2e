// Float32 2-D convolution, NHWC input, [kh, kw, c, f] filter (tfjs's layouts), as im2col + the GEMM of gemm.h: each
// output pixel's receptive field becomes a row of kh·kw·c values (zeros where it overlaps the padding), and the
// filter, read as a (kh·kw·c) x f matrix, multiplies them.
#pragma once

namespace icnn {

struct ConvArgs {
  const float* x;
  const float* filter;
  float* out;
  int batch, inH, inW, inC;
  int filterH, filterW, outC;
  int outH, outW;
  int strideH, strideW, dilationH, dilationW;
  int padTop, padLeft;
};

void conv2d(const ConvArgs& args);

// The input gradient of conv2d (a transposed convolution), as dy·Wᵀ + col2im: `x` is dy [batch, outH, outW, outC],
// `out` is dx [batch, inH, inW, inC]; the other fields describe the forward convolution.
void conv2dBackpropInput(const ConvArgs& args);

// The filter gradient of conv2d: `filter` is dy [batch, outH, outW, outC], `out` is dW [filterH, filterW, inC, outC];
// the other fields describe the forward convolution (x is its input).
void conv2dBackpropFilter(const ConvArgs& args);

}  // namespace icnn
