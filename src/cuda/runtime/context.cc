// Per-device state of the CUDA backend (context.h): the device's one stream,
// its cuBLAS and cuDNN handles, and CUDA errors as Status.
//
// Lifetime: contexts, streams and handles are made on first use and never
// destroyed. They live as long as the process; destroying them from static
// destructors could run after the driver has been torn down at exit.
#include "context.h"

#include <atomic>
#include <new>
#include <string>

#include "../discovery.h"
#include "../memory.h"
#include "../rnn_policy.h"
#include "../rnn.h"

namespace cudnn_rnn {
namespace cuda {
namespace {

constexpr int kMaxDevices = 64;

// Zero-initialised statics with trivial destructors: safe at any point of
// the process's life, including from finalizers during shutdown.
std::atomic<DeviceContext*> g_contexts[kMaxDevices];
std::atomic<int> g_device_count{-1};  // cached after the first successful query
std::mutex g_create_mu;

// What made each device's handles, so that a handle is only ever used with
// the library that created it (a forced re-discovery may load another one),
// and the cuBLAS math mode last applied. Guarded by the context's handle_mu,
// which the callers of cublas_handle / cudnn_handle hold.
struct HandleState {
  cublas::CreateFn cublas_made_by;
  cublas::DestroyFn cublas_destroy;
  int cublas_math;  // -1: not applied yet
  cudnn::CreateFn cudnn_made_by;
  cudnn::DestroyFn cudnn_destroy;
};
HandleState g_handles[kMaxDevices];

// Errors after which the CUDA context is unusable for the rest of the
// process (every later call fails with the same error).
bool is_sticky(cudaError_t err) {
  switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchFailure:
      return true;
    default:
      return false;
  }
}

std::string cuda_error_text(cudaError_t err) {
  const char* name = cudaGetErrorName(err);
  const char* text = cudaGetErrorString(err);
  return std::string(name ? name : "cudaError") + " (" + (text ? text : "unknown error") + ")";
}

Status device_count(int* count) {
  int n = g_device_count.load(std::memory_order_acquire);
  if (n >= 0) {
    *count = n;
    return Status::Ok();
  }
  n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // not sticky: leave no stale error for check_launch
    std::string message = "CUDA is unavailable: cudaGetDeviceCount failed: " + cuda_error_text(err);
    if (err == cudaErrorInsufficientDriver) {
      // Also what the runtime says when there is no driver at all.
      int runtime = 0, driver = 0;
      cudaRuntimeGetVersion(&runtime);
      if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;
      cudaGetLastError();
      message += driver == 0 ? "; no NVIDIA driver is loaded"
                             : "; the NVIDIA driver runs CUDA up to " + cuda_version_text(driver) +
                                   " but cudnn-rnn was built with the CUDA " + cuda_version_text(runtime) +
                                   " runtime: update the driver";
    }
    return Status(StatusCode::BackendUnavailable, message);
  }
  g_device_count.store(n, std::memory_order_release);
  *count = n;
  return Status::Ok();
}

std::string cublas_error(const cublas::Api& api, cublas::Status status) {
  const char* text = api.cublasGetStatusString ? api.cublasGetStatusString(status) : nullptr;
  return std::string(text ? text : "unknown cuBLAS status") + " (status " + std::to_string(status) + ")";
}

}  // namespace

Status cuda_status(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::Ok();
  // The runtime also records the error as the thread's "last error"; clear it
  // so that the next check_launch does not report it again. (A sticky error
  // cannot be cleared: every later call returns it anyway.)
  cudaGetLastError();
  std::string message = std::string(what ? what : "CUDA call") + ": " + cuda_error_text(err);
  if (err == cudaErrorMemoryAllocation) return Status(StatusCode::OutOfMemory, message);
  if (is_sticky(err)) {
    message += ". The GPU context is unusable after this error: restart the process (run with "
               "CUDA_LAUNCH_BLOCKING=1 to find the operation that caused it)";
  }
  return Status(StatusCode::BackendFailure, message);
}

Status check_launch(const char* kernel) {
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return Status::Ok();
  const std::string what = std::string("launching kernel ") + (kernel ? kernel : "?");
  return cuda_status(err, what.c_str());
}

Status device_context(int device, DeviceContext** out) {
  *out = nullptr;
  int count = 0;
  CUDNN_RNN_RETURN_IF_ERROR(device_count(&count));
  if (device < 0 || device >= count) {
    return Status(StatusCode::BackendUnavailable,
                  "no CUDA device " + std::to_string(device) + " (" + std::to_string(count) + " found)");
  }
  if (device >= kMaxDevices) {
    return Status(StatusCode::BackendUnavailable, "CUDA device " + std::to_string(device) + " is beyond the " +
                                                      std::to_string(kMaxDevices) + " devices cudnn-rnn supports");
  }
  // cudaSetDevice is per thread (and cheap once the device's primary context
  // exists): make it current on every call, for whichever thread calls.
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaSetDevice(device), "cudaSetDevice"));
  DeviceContext* ctx = g_contexts[device].load(std::memory_order_acquire);
  if (ctx == nullptr) {
    std::lock_guard<std::mutex> lock(g_create_mu);
    ctx = g_contexts[device].load(std::memory_order_acquire);
    if (ctx == nullptr) {
      cudaStream_t stream = nullptr;
      CUDNN_RNN_RETURN_IF_ERROR(
          cuda_status(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags"));
      ctx = new (std::nothrow) DeviceContext();
      if (ctx == nullptr) {
        cudaStreamDestroy(stream);
        return Status(StatusCode::OutOfMemory, "out of host memory creating the CUDA device context");
      }
      ctx->index = device;
      ctx->stream = stream;
      g_handles[device] = HandleState{nullptr, nullptr, -1, nullptr, nullptr};
      g_contexts[device].store(ctx, std::memory_order_release);
    }
  }
  *out = ctx;
  return Status::Ok();
}

Status cublas_handle(DeviceContext& ctx, cublas::Handle* out) {
  *out = nullptr;
  if (ctx.index < 0 || ctx.index >= kMaxDevices) return Status(StatusCode::Internal, "cublas_handle: bad context");
  const cublas::Api api = loaded().cublas;
  if (api.cublasCreate_v2 == nullptr || api.cublasDestroy_v2 == nullptr) {
    return Status(StatusCode::BackendUnavailable,
                  "cuBLAS was not found: no cuBLAS 12 or 13 library has been accepted by cuda.discover() "
                  "(run `npx cudnn-rnn doctor` to see where it was searched and why)");
  }
  if (api.cublasSetStream_v2 == nullptr) {
    return Status(StatusCode::BackendUnavailable,
                  "the loaded cuBLAS library does not export cublasSetStream_v2 (not a real cuBLAS 12/13?)");
  }
  HandleState& hs = g_handles[ctx.index];
  if (ctx.cublas != nullptr && hs.cublas_made_by != api.cublasCreate_v2) {
    // Discovery loaded another cuBLAS since the handle was made: a handle
    // belongs to its own library (which stays mapped), so make a new one.
    if (hs.cublas_destroy) hs.cublas_destroy(ctx.cublas);
    ctx.cublas = nullptr;
  }
  if (ctx.cublas == nullptr) {
    // The handle belongs to the device current at creation.
    CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaSetDevice(ctx.index), "cudaSetDevice"));
    cublas::Handle h = nullptr;
    // cuBLAS allocates the handle's memory itself, outside our pool: on
    // ALLOC_FAILED our idle blocks are released and the call made once more.
    if (cublas::Status st = policy::call_with_release_retry(
            policy::Library::Cublas, 0, [&] { return api.cublasCreate_v2(&h); },
            [&] { return empty_cache(ctx.index).ok(); })) {
      return Status(st == cublas::kStatusAllocFailed ? StatusCode::OutOfMemory : StatusCode::BackendFailure,
                    "cublasCreate_v2 failed: " + cublas_error(api, st));
    }
    if (cublas::Status st = api.cublasSetStream_v2(h, ctx.stream)) {
      api.cublasDestroy_v2(h);
      return Status(StatusCode::BackendFailure, "cublasSetStream_v2 failed: " + cublas_error(api, st));
    }
    ctx.cublas = h;
    hs.cublas_made_by = api.cublasCreate_v2;
    hs.cublas_destroy = api.cublasDestroy_v2;
    hs.cublas_math = -1;
  }
  // Strict FP32 unless TF32 was allowed (DESIGN.md 5); follows the setting
  // when it changes between calls.
  const int math = rnn::allow_tf32() ? cublas::kTf32TensorOpMath : cublas::kDefaultMath;
  if (hs.cublas_math != math) {
    if (api.cublasSetMathMode != nullptr) {
      if (cublas::Status st = api.cublasSetMathMode(ctx.cublas, math)) {
        return Status(StatusCode::BackendFailure, "cublasSetMathMode failed: " + cublas_error(api, st));
      }
    }
    // Without cublasSetMathMode the handle keeps cuBLAS's default (strict) math.
    hs.cublas_math = math;
  }
  *out = ctx.cublas;
  return Status::Ok();
}

Status cudnn_handle(DeviceContext& ctx, cudnn::Handle* out) {
  *out = nullptr;
  if (ctx.index < 0 || ctx.index >= kMaxDevices) return Status(StatusCode::Internal, "cudnn_handle: bad context");
  const Loaded l = loaded();
  const cudnn::Api& api = l.cudnn;
  if (api.cudnnGetVersion == nullptr) {
    return Status(StatusCode::BackendUnavailable,
                  "cuDNN was not found: no cuDNN 8 or 9 library has been accepted by cuda.discover() "
                  "(run `npx cudnn-rnn doctor` to see where it was searched and why)");
  }
  if (api.cudnnCreate == nullptr || api.cudnnDestroy == nullptr || api.cudnnSetStream == nullptr) {
    std::string missing;
    if (api.cudnnCreate == nullptr) missing += "cudnnCreate";
    if (api.cudnnDestroy == nullptr) missing += std::string(missing.empty() ? "" : ", ") + "cudnnDestroy";
    if (api.cudnnSetStream == nullptr) missing += std::string(missing.empty() ? "" : ", ") + "cudnnSetStream";
    return Status(StatusCode::BackendUnavailable, "the loaded cuDNN library does not export " + missing);
  }
  HandleState& hs = g_handles[ctx.index];
  if (ctx.cudnn != nullptr && hs.cudnn_made_by != api.cudnnCreate) {
    if (hs.cudnn_destroy) hs.cudnn_destroy(ctx.cudnn);
    ctx.cudnn = nullptr;
  }
  if (ctx.cudnn == nullptr) {
    CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaSetDevice(ctx.index), "cudaSetDevice"));
    cudnn::Handle h = nullptr;
    if (cudnn::Status st = policy::call_with_release_retry(
            policy::Library::Cudnn, l.cudnn_major, [&] { return api.cudnnCreate(&h); },
            [&] { return empty_cache(ctx.index).ok(); })) {
      return Status(StatusCode::BackendFailure, "cudnnCreate failed: " + cudnn_error(st));
    }
    if (cudnn::Status st = api.cudnnSetStream(h, ctx.stream)) {
      api.cudnnDestroy(h);
      return Status(StatusCode::BackendFailure, "cudnnSetStream failed: " + cudnn_error(st));
    }
    ctx.cudnn = h;
    hs.cudnn_made_by = api.cudnnCreate;
    hs.cudnn_destroy = api.cudnnDestroy;
  }
  *out = ctx.cudnn;
  return Status::Ok();
}

}  // namespace cuda
}  // namespace cudnn_rnn
