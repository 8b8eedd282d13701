// Helpers shared by the cuDNN RNN backend's files (cudnn_rnn*.cc), internal
// to runtime/:
//   cudnn_rnn_common.cc       argument checks, cuDNN status -> Status, the
//                             per-call session (handle + bound functions),
//                             temporary device buffers;
//   cudnn_rnn_descriptors.cc  RAII descriptors, the per-shape cache;
//   cudnn_rnn_dropout.cc      the per-device dropout generator state;
//   cudnn_rnn_layout.cc       weight_layout, reserve_numel;
//   cudnn_rnn.cc              forward, backward, time_raw_forward, TF32 flag.
// Everything that takes a Session runs with ctx->handle_mu held.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string>

#include "../../core/rnn_contract.h"
#include "../../core/status.h"
#include "../cudnn_api.h"
#include "../discovery.h"
#include "../memory.h"
#include "../rnn_policy.h"
#include "context.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {
namespace detail {

using ::cudnn_rnn::rnn::Config;
using ::cudnn_rnn::rnn::Mode;

// ---- Arguments ----------------------------------------------------------------------

using ::cudnn_rnn::rnn::gate_count;
int64_t directions(const Config& cfg);

// The configuration cuDNN can be given: float32/float64, RNN, GRU or LSTM,
// a projection only for an LSTM and smaller than hidden_size, positive sizes
// that fit the int32 arguments of cuDNN's descriptors. InvalidArgument otherwise.
Status check_config(const Config& cfg);
// check_config plus seq_len >= 1 and batch >= 0, and every descriptor
// dimension and stride of that shape within int32.
Status check_shape(const Config& cfg, int64_t seq_len, int64_t batch);

cudnn::DataType data_type(const Config& cfg);
// CUDNN_FMA_MATH for float32 unless TF32 is allowed (then DEFAULT_MATH,
// which permits TF32 on Ampere+); DEFAULT_MATH for float64. Read per call.
cudnn::MathType math_type(const Config& cfg);

// The dropout cuDNN is given: 0 unless training a multi-layer net (cuDNN,
// like PyTorch, drops only between layers, so one layer never drops).
float effective_dropout(const Config& cfg, bool training, double p);

// "rnn (cuda): <what>" as InvalidArgument.
Status invalid(const std::string& what);

// Runs `body` (returning Status) with any C++ exception (std::bad_alloc from
// a host container, ...) turned into a Status: nothing throws across the
// binding (DESIGN.md decision 7).
template <typename F>
Status guarded(const char* what, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::OutOfMemory, std::string("rnn (cuda) ") + what + ": out of host memory");
  } catch (const std::exception& e) {
    return Status(StatusCode::Internal, std::string("rnn (cuda) ") + what + ": " + e.what());
  } catch (...) {
    return Status(StatusCode::Internal, std::string("rnn (cuda) ") + what + ": unknown failure");
  }
}

// ---- cuDNN calls --------------------------------------------------------------------

// Ok for CUDNN_STATUS_SUCCESS, else "<what> failed: <cudnn_error(code)>":
// OutOfMemory for cuDNN's allocation failures (8: ALLOC_FAILED = 2; 9:
// 4003/4004, host/device allocation failed), BackendFailure otherwise.
Status cudnn_check(cudnn::Status code, const char* what);

// A cuDNN call that may need memory of cuDNN's own (workspaces of cuBLAS
// inside it, outside our caching allocator): on an allocation failure
// (rnn_policy.h) the device's idle cached blocks are released and the call
// made once more, as our own allocations do; then cudnn_check.
// `raw` (optional) gets the last cuDNN status.
template <typename F>
Status cudnn_retry(int device, const char* what, F&& call, int* raw = nullptr) {
  const int status = policy::call_with_release_retry(policy::Library::Cudnn, loaded().cudnn_major, call,
                                                     [device] { return empty_cache(device).ok(); });
  if (raw) *raw = status;
  return cudnn_check(status, what);
}

// What one backend call works with: the device's context, its cuDNN handle
// (bound to ctx->stream) and the function table of the library that made it.
struct Session {
  int device = 0;
  DeviceContext* ctx = nullptr;
  cudnn::Handle handle = nullptr;
  cudnn::Api api;
  // Identifies the loaded cuDNN (a forced re-discovery may load another; the
  // handle code tells libraries apart the same way): part of every cache
  // key, so descriptors and dropout states are only used with their library.
  cudnn::CreateFn lib = nullptr;
};

// With ctx.handle_mu held: the handle (cudnn_handle reports a missing or
// incomplete library) and the RNN functions, BackendUnavailable "cuDNN at
// <path> lacks <names>" when any is missing.
Status open_session(DeviceContext& ctx, Session* s);

// ---- Sizes (cudnn_rnn_layout.cc) --------------------------------------------------

// The weight space's bytes for `cfg` (cudnnGetRNNWeightSpaceSize on a
// temporary no-dropout descriptor).
Status weight_space_bytes(const Session& s, const Config& cfg, size_t* bytes);

// The reserve bytes reserve_numel() promises for this shape, i.e. what a
// training forward's caller has allocated: the training reserve size without
// dropout, or with it when that is larger (multi-layer nets). Cached.
Status promised_reserve_bytes(const Session& s, const Config& cfg, int64_t seq_len, int64_t batch, double dropout,
                              size_t* bytes, const int64_t* batch_sizes = nullptr);

// ---- Device memory ------------------------------------------------------------------

// A temporary from the stream-ordered caching allocator, returned to the pool
// when it goes out of scope (safe right after queuing work that uses it: later
// allocations are ordered after that work on the same stream).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { reset(); }
  Status allocate(int device, size_t nbytes, bool zero);
  void reset();
  void* get() const { return ptr_; }

 private:
  int device_ = 0;
  void* ptr_ = nullptr;
};

}  // namespace detail
}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
