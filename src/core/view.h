// A strided view of typed memory: what every kernel receives. Shapes and
// strides are in elements; `data` already points at the view's first element.
// Broadcasting is expressed by stride 0, so kernels need no broadcasting logic.
// `device` says which backend's memory `data` is (dispatch/ routes on it).
#pragma once
#include <cstdint>

#include "device.h"
#include "dtype.h"

namespace cudnn_rnn {

constexpr int kMaxDims = 16;

struct View {
  void* data = nullptr;
  DType dtype = DType::Float32;
  Device device;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
  }
  bool is_contiguous() const {
    int64_t expected = 1;
    for (int i = ndim - 1; i >= 0; --i) {
      if (shape[i] != 1 && strides[i] != expected) return false;
      expected *= shape[i];
    }
    return true;
  }
  template <typename T>
  T* ptr() const { return static_cast<T*>(data); }
};

}  // namespace cudnn_rnn
