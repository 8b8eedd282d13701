// Element types shared by every backend. The numeric values are part of the
// binding contract: lib/dtype.ts uses the same numbers.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cudnn_rnn {

enum class DType : int32_t { Float32 = 0, Float64 = 1, Int32 = 2 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int32: return 4;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int32: return "int32";
  }
  return "unknown";
}

}  // namespace cudnn_rnn
