// Tables from shared/reference/cudnn-api.md §3.1 (cuDNN 8.2.1 and 8.x
// headers; cuDNN 9.6 and 9.12 headers).
#include "cudnn_status.h"

#include <cstring>

namespace cudnn_rnn {
namespace cuda {

namespace {

struct Entry {
  int code;
  const char* name;  // without the CUDNN_STATUS_ prefix
};

const char* const kCudnn8[] = {
    "SUCCESS",          "NOT_INITIALIZED",       "ALLOC_FAILED",      "BAD_PARAM",
    "INTERNAL_ERROR",   "INVALID_VALUE",         "ARCH_MISMATCH",     "MAPPING_ERROR",
    "EXECUTION_FAILED", "NOT_SUPPORTED",         "LICENSE_ERROR",     "RUNTIME_PREREQUISITE_MISSING",
    "RUNTIME_IN_PROGRESS", "RUNTIME_FP_OVERFLOW", "VERSION_MISMATCH",
};

// Deprecated aliases (ALLOC_FAILED = 4003, ...) share a number with the
// names below, which are the ones cuDNN 9 itself prints.
const Entry kCudnn9[] = {
    {0, "SUCCESS"},
    {1001, "NOT_INITIALIZED"},
    {1002, "SUBLIBRARY_VERSION_MISMATCH"},
    {1003, "SERIALIZATION_VERSION_MISMATCH"},
    {1004, "DEPRECATED"},
    {1005, "LICENSE_ERROR"},
    {1006, "RUNTIME_IN_PROGRESS"},
    {1007, "RUNTIME_FP_OVERFLOW"},
    {1008, "SUBLIBRARY_LOADING_FAILED"},
    {2000, "BAD_PARAM"},
    {2001, "INVALID_VALUE"},
    {2002, "BAD_PARAM_NULL_POINTER"},
    {2003, "BAD_PARAM_MISALIGNED_POINTER"},
    {2004, "BAD_PARAM_NOT_FINALIZED"},
    {2005, "BAD_PARAM_OUT_OF_BOUND"},
    {2006, "BAD_PARAM_SIZE_INSUFFICIENT"},
    {2007, "BAD_PARAM_STREAM_MISMATCH"},
    {2008, "BAD_PARAM_SHAPE_MISMATCH"},
    {2009, "BAD_PARAM_DUPLICATED_ENTRIES"},
    {2010, "BAD_PARAM_ATTRIBUTE_TYPE"},
    {2011, "BAD_PARAM_CUDA_GRAPH_MISMATCH"},
    {2012, "BAD_PARAM_DESCRIPTOR_TYPE"},
    {3000, "NOT_SUPPORTED"},
    {3001, "NOT_SUPPORTED_GRAPH_PATTERN"},
    {3002, "NOT_SUPPORTED_SHAPE"},
    {3003, "NOT_SUPPORTED_DATA_TYPE"},
    {3004, "NOT_SUPPORTED_LAYOUT"},
    {3005, "NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER"},
    {3006, "NOT_SUPPORTED_INCOMPATIBLE_CUDART"},
    {3007, "NOT_SUPPORTED_ARCH_MISMATCH"},
    {3008, "NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING"},
    {3009, "NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE"},
    {3010, "NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT"},
    {3011, "NOT_SUPPORTED_PADDING"},
    {3012, "NOT_SUPPORTED_BAD_LAUNCH_PARAM"},
    {3013, "NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API"},
    {4000, "INTERNAL_ERROR"},
    {4001, "INTERNAL_ERROR_COMPILATION_FAILED"},
    {4002, "INTERNAL_ERROR_UNEXPECTED_VALUE"},
    {4003, "INTERNAL_ERROR_HOST_ALLOCATION_FAILED"},
    {4004, "INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED"},
    {4005, "INTERNAL_ERROR_BAD_LAUNCH_PARAM"},
    {4006, "INTERNAL_ERROR_TEXTURE_CREATION_FAILED"},
    {5000, "EXECUTION_FAILED"},
    {5001, "EXECUTION_FAILED_CUDA_DRIVER"},
    {5002, "EXECUTION_FAILED_CUBLAS"},
    {5003, "EXECUTION_FAILED_CUDART"},
    {5004, "EXECUTION_FAILED_CURAND"},
};

const char* find9(int code) {
  for (const Entry& e : kCudnn9)
    if (e.code == code) return e.name;
  return nullptr;
}

}  // namespace

std::string cudnn_status_name(int major, int code) {
  const std::string prefix = "CUDNN_STATUS_";
  if (major < 9) {
    const int n = int(sizeof kCudnn8 / sizeof kCudnn8[0]);
    if (code >= 0 && code < n) return prefix + kCudnn8[code];
    return prefix + "UNKNOWN";
  }
  if (const char* name = find9(code)) return prefix + name;
  // The header's own rule: category = code / 1000 * 1000. Categories 2000 to
  // 5000 are codes themselves; the 1xxx group has no name of its own.
  if (code >= 2000 && code < 6000) {
    if (const char* category = find9(code / 1000 * 1000))
      return prefix + category + " (detail " + std::to_string(code % 1000) + ")";
  }
  return prefix + "UNKNOWN";
}

std::string cudnn_status_message(int major, int code, cudnn::GetErrorStringFn get_error_string) {
  std::string out = cudnn_status_name(major, code) + " (" + std::to_string(code) + ")";
  const char* text = get_error_string ? get_error_string(code) : nullptr;
  // cuDNN's text is often just the name again; add it only when it says more.
  if (text && *text && out.compare(0, strlen(text), text) != 0) out += std::string(": ") + text;
  return out;
}

}  // namespace cuda
}  // namespace cudnn_rnn
