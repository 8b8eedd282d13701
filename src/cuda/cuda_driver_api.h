// The few CUDA driver API functions discovery calls, declared here because
// the CUDA headers are not guaranteed where the addon is built (DESIGN.md 1);
// libcuda.so.1 is opened with dlopen so that machines without a driver still
// load the addon. Values checked against cuda.h of CUDA 13.0; they have not
// changed since CUDA 4.
#pragma once
#include <cstddef>

namespace cudnn_rnn {
namespace cuda {
namespace driver {

using CUresult = int;  // an enum in cuda.h; int-sized on every ABI we build for
using CUdevice = int;

constexpr CUresult kSuccess = 0;
// cuInit from the CUDA toolkit's stub libcuda (meant for linking only).
constexpr CUresult kErrorStubLibrary = 34;
constexpr int kAttrComputeCapabilityMajor = 75;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrComputeCapabilityMinor = 76;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR

extern "C" {
typedef CUresult (*InitFn)(unsigned int flags);
typedef CUresult (*DriverGetVersionFn)(int* version);  // 12040 = CUDA 12.4
typedef CUresult (*DeviceGetCountFn)(int* count);
typedef CUresult (*DeviceGetFn)(CUdevice* device, int ordinal);
typedef CUresult (*DeviceGetNameFn)(char* name, int len, CUdevice device);
typedef CUresult (*DeviceTotalMemFn)(size_t* bytes, CUdevice device);  // exported as cuDeviceTotalMem_v2
typedef CUresult (*DeviceGetAttributeFn)(int* value, int attribute, CUdevice device);
typedef CUresult (*GetErrorTextFn)(CUresult error, const char** text);  // cuGetErrorName / cuGetErrorString
}

// Bound by discovery.cc; the two error-text functions are optional.
struct Api {
  InitFn cuInit = nullptr;
  DriverGetVersionFn cuDriverGetVersion = nullptr;
  DeviceGetCountFn cuDeviceGetCount = nullptr;
  DeviceGetFn cuDeviceGet = nullptr;
  DeviceGetNameFn cuDeviceGetName = nullptr;
  DeviceTotalMemFn cuDeviceTotalMem_v2 = nullptr;
  DeviceGetAttributeFn cuDeviceGetAttribute = nullptr;
  GetErrorTextFn cuGetErrorName = nullptr;
  GetErrorTextFn cuGetErrorString = nullptr;
};

}  // namespace driver
}  // namespace cuda
}  // namespace cudnn_rnn
