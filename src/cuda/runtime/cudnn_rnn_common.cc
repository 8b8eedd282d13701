// The cuDNN RNN backend's shared plumbing (cudnn_rnn_internal.h): argument
// checks, cuDNN statuses as Status, the per-call session and temporaries.
#include <dlfcn.h>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <string>

#include "../discovery.h"
#include "../memory.h"
#include "../rnn.h"
#include "cudnn_rnn_internal.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {
namespace detail {

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// a*b*... within int32, each factor already within int32 (so no product of
// two overflows int64 before the check).
bool product_fits_int32(std::initializer_list<int64_t> factors) {
  int64_t p = 1;
  for (int64_t f : factors) {
    if (f < 0 || f > kInt32Max) return false;
    p *= f;
    if (p > kInt32Max) return false;
  }
  return true;
}

std::string shape_text(const Config& cfg) {
  return "input_size " + std::to_string(cfg.input_size) + ", hidden_size " + std::to_string(cfg.hidden_size) +
         ", num_layers " + std::to_string(cfg.num_layers);
}

// The cuDNN library file the function table came from ("" if unknown).
std::string library_path(const cudnn::Api& api) {
  if (api.cudnnGetVersion == nullptr) return "";
  Dl_info info;
  if (dladdr(reinterpret_cast<const void*>(api.cudnnGetVersion), &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

}  // namespace

int64_t directions(const Config& cfg) { return cfg.bidirectional ? 2 : 1; }

Status invalid(const std::string& what) { return Status(StatusCode::InvalidArgument, "rnn (cuda): " + what); }

Status check_config(const Config& cfg) {
  if (cfg.dtype != DType::Float32 && cfg.dtype != DType::Float64)
    return invalid(std::string("dtype must be float32 or float64, got ") + dtype_name(cfg.dtype));
  if (gate_count(cfg.mode) == 0) return invalid("unknown mode " + std::to_string(int(cfg.mode)));
  if (cfg.input_size <= 0 || cfg.hidden_size <= 0 || cfg.num_layers <= 0)
    return invalid("bad shape: " + shape_text(cfg));
  if (cfg.proj_size != 0 && cfg.mode != Mode::Lstm) return invalid("proj_size is only for LSTM");
  if (cfg.proj_size < 0 || (cfg.proj_size > 0 && cfg.proj_size >= cfg.hidden_size))
    return invalid("proj_size must be in [0, hidden_size), got " + std::to_string(cfg.proj_size));
  const int64_t g = gate_count(cfg.mode), d = directions(cfg);
  // inputSize, hiddenSize, numLayers are int32 arguments; the gate rows, the
  // output vector (D*H) and the h descriptor's first dim (L*D) are ints too.
  if (!product_fits_int32({cfg.input_size}) || !product_fits_int32({g, cfg.hidden_size}) ||
      !product_fits_int32({d, cfg.hidden_size}) || !product_fits_int32({d, cfg.num_layers}))
    return invalid("sizes too large for cuDNN (its dimensions are 32-bit): " + shape_text(cfg));
  return Status::Ok();
}

Status check_shape(const Config& cfg, int64_t seq_len, int64_t batch) {
  CUDNN_RNN_RETURN_IF_ERROR(check_config(cfg));
  if (seq_len < 1 || batch < 0)
    return invalid("bad shape: seq_len " + std::to_string(seq_len) + ", batch " + std::to_string(batch));
  // The c descriptor spans L*D*N*H elements, h (R = proj or hidden units, R <= H) fewer.
  const int64_t d = directions(cfg), h = cfg.hidden_size;
  const int64_t widest = std::max(cfg.input_size, d * h);
  // maxSeqLength and batchSize are ints; the h/c descriptors' strides are
  // {N*H, H, 1} over L*D*N*H elements; one time step holds N*max(I, D*H).
  if (!product_fits_int32({seq_len}) || !product_fits_int32({batch}) ||
      !product_fits_int32({cfg.num_layers, d, batch, h}) || !product_fits_int32({batch, widest}))
    return invalid("sizes too large for cuDNN (its dimensions are 32-bit): " + shape_text(cfg) + ", seq_len " +
                   std::to_string(seq_len) + ", batch " + std::to_string(batch));
  return Status::Ok();
}

cudnn::DataType data_type(const Config& cfg) {
  return cfg.dtype == DType::Float64 ? cudnn::kDataDouble : cudnn::kDataFloat;
}

cudnn::MathType math_type(const Config& cfg) {
  if (cfg.dtype == DType::Float64) return cudnn::kDefaultMath;
  return cfg.allow_tf32 ? cudnn::kDefaultMath : cudnn::kFmaMath;
}

float effective_dropout(const Config& cfg, bool training, double p) {
  if (!training || cfg.num_layers <= 1 || !(p > 0.0)) return 0.0f;
  return static_cast<float>(p);
}

Status cudnn_check(cudnn::Status code, const char* what) {
  if (code == cudnn::kSuccess) return Status::Ok();
  const int major = loaded().cudnn_major;
  // cuDNN 8: CUDNN_STATUS_ALLOC_FAILED = 2. cuDNN 9: ALLOC_FAILED is an alias
  // of INTERNAL_ERROR_HOST_ALLOCATION_FAILED (4003); 4004 is the device one.
  const bool oom = major == 8 ? code == 2 : (code == 4003 || code == 4004);
  return Status(oom ? StatusCode::OutOfMemory : StatusCode::BackendFailure,
                std::string(what) + " failed: " + cudnn_error(code));
}

Status open_session(DeviceContext& ctx, Session* s) {
  s->ctx = &ctx;
  s->device = ctx.index;
  CUDNN_RNN_RETURN_IF_ERROR(cudnn_handle(ctx, &s->handle));
  s->api = loaded().cudnn;
  s->lib = s->api.cudnnCreate;
  const cudnn::Api& a = s->api;
  std::string missing;
  auto need = [&missing](bool present, const char* name) {
    if (present) return;
    if (!missing.empty()) missing += ", ";
    missing += name;
  };
  need(a.cudnnCreateTensorDescriptor != nullptr, "cudnnCreateTensorDescriptor");
  need(a.cudnnSetTensorNdDescriptor != nullptr, "cudnnSetTensorNdDescriptor");
  need(a.cudnnGetTensorNdDescriptor != nullptr, "cudnnGetTensorNdDescriptor");
  need(a.cudnnDestroyTensorDescriptor != nullptr, "cudnnDestroyTensorDescriptor");
  need(a.cudnnCreateDropoutDescriptor != nullptr, "cudnnCreateDropoutDescriptor");
  need(a.cudnnDestroyDropoutDescriptor != nullptr, "cudnnDestroyDropoutDescriptor");
  need(a.cudnnDropoutGetStatesSize != nullptr, "cudnnDropoutGetStatesSize");
  need(a.cudnnSetDropoutDescriptor != nullptr, "cudnnSetDropoutDescriptor");
  need(a.cudnnRestoreDropoutDescriptor != nullptr, "cudnnRestoreDropoutDescriptor");
  need(a.cudnnCreateRNNDescriptor != nullptr, "cudnnCreateRNNDescriptor");
  need(a.cudnnDestroyRNNDescriptor != nullptr, "cudnnDestroyRNNDescriptor");
  need(a.cudnnSetRNNDescriptor_v8 != nullptr, "cudnnSetRNNDescriptor_v8");
  need(a.cudnnCreateRNNDataDescriptor != nullptr, "cudnnCreateRNNDataDescriptor");
  need(a.cudnnDestroyRNNDataDescriptor != nullptr, "cudnnDestroyRNNDataDescriptor");
  need(a.cudnnSetRNNDataDescriptor != nullptr, "cudnnSetRNNDataDescriptor");
  need(a.cudnnGetRNNWeightSpaceSize != nullptr, "cudnnGetRNNWeightSpaceSize");
  need(a.cudnnGetRNNTempSpaceSizes != nullptr, "cudnnGetRNNTempSpaceSizes");
  need(a.cudnnGetRNNWeightParams != nullptr, "cudnnGetRNNWeightParams");
  need(a.cudnnRNNForward != nullptr, "cudnnRNNForward");
  need(a.cudnnRNNBackwardData_v8 != nullptr, "cudnnRNNBackwardData_v8");
  need(a.cudnnRNNBackwardWeights_v8 != nullptr, "cudnnRNNBackwardWeights_v8");
  if (missing.empty()) return Status::Ok();
  const std::string path = library_path(a);
  return Status(StatusCode::BackendUnavailable,
                (path.empty() ? std::string("the loaded cuDNN") : "cuDNN at " + path) + " lacks " + missing +
                    " (the RNN backend needs cuDNN 8 or 9 with its v8 RNN API)");
}

Status DeviceBuffer::allocate(int device, size_t nbytes, bool zero) {
  reset();
  void* p = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_alloc(device, nbytes, zero, &p));
  device_ = device;
  ptr_ = p;
  return Status::Ok();
}

void DeviceBuffer::reset() {
  if (ptr_ != nullptr) device_free(device_, ptr_);
  ptr_ = nullptr;
}

}  // namespace detail
}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
