// The GPU self-test (self_test.h): the smallest piece of every kind of work
// the backend does, in the order it first happens, so that a machine that
// cannot run us is found out before 'auto' commits to the GPU.
#include "../self_test.h"

#include <cuda_runtime_api.h>

#include <cmath>
#include <mutex>
#include <vector>

#include "../discovery.h"
#include "../kernels.h"
#include "../memory.h"
#include "../rnn.h"
#include "../runtime_probe.h"
#include "context.h"

namespace cudnn_rnn {
namespace cuda {
namespace {

constexpr int kMaxDevices = 64;

SelfTestResult fail(const char* step, const std::string& reason) {
  SelfTestResult r;
  r.step = step;
  r.reason = reason;
  return r;
}

// Device memory freed with its scope.
class Block {
 public:
  explicit Block(int device) : device_(device) {}
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  ~Block() { device_free(device_, ptr_); }
  Status allocate(size_t bytes, bool zero) { return device_alloc(device_, bytes, zero, &ptr_); }
  void* get() const { return ptr_; }

 private:
  int device_;
  void* ptr_ = nullptr;
};

// The static runtime needs a driver of at least its CUDA major (within a
// major, CUDA's minor version compatibility covers the rest).
std::string driver_check() {
  const int runtime = linked_runtime_version();
  const Loaded l = loaded();
  if (!runtime || !l.driver_cuda_version || l.driver_cuda_version / 1000 >= runtime / 1000) return "";
  return "the NVIDIA driver" + (l.driver_version.empty() ? std::string() : " " + l.driver_version) +
         " runs CUDA " + cuda_version_text(l.driver_cuda_version) + " at most, older than this addon's CUDA " +
         cuda_version_text(runtime) + " runtime";
}

// A fill kernel of ours on 64 floats, read back.
Status kernel_check(int device) {
  constexpr int n = 64;
  Block buf(device);
  CUDNN_RNN_RETURN_IF_ERROR(buf.allocate(n * sizeof(float), false));
  View v;
  v.data = buf.get();
  v.dtype = DType::Float32;
  v.device.type = DeviceType::Cuda;
  v.device.index = device;
  v.ndim = 1;
  v.shape[0] = n;
  v.strides[0] = 1;
  CUDNN_RNN_RETURN_IF_ERROR(fill(v, 1.5));
  std::vector<float> host(n, 0.0f);
  CUDNN_RNN_RETURN_IF_ERROR(copy_to_host(device, host.data(), buf.get(), n * sizeof(float)));
  for (float x : host)
    if (x != 1.5f) return Status(StatusCode::BackendFailure, "the fill kernel wrote " + std::to_string(x) + ", not 1.5");
  return Status::Ok();
}

// A GRU of input 2, hidden 2, one layer, 3 steps of batch 2: forward in
// training mode, then backward, then a synchronisation (asynchronous faults
// surface there).
SelfTestResult rnn_check(int device) {
  ::cudnn_rnn::rnn::Config cfg;
  cfg.mode = ::cudnn_rnn::rnn::Mode::Gru;
  cfg.dtype = DType::Float32;
  cfg.input_size = 2;
  cfg.hidden_size = 2;
  cfg.num_layers = 1;
  cfg.bidirectional = false;
  cfg.bias = true;
  const int64_t seq = 3, batch = 2;
  std::vector<::cudnn_rnn::rnn::ParamSlot> slots;
  int64_t wnumel = 0, rnumel = 0;
  Status st = cuda::rnn::weight_layout(device, cfg, &slots, &wnumel);
  if (st.ok()) st = cuda::rnn::reserve_numel(device, cfg, seq, batch, 0.0, &rnumel);
  if (!st.ok()) return fail("cudnnRNNForward", st.message());
  Block w(device), dw(device), x(device), y(device), hy(device), reserve(device), dx(device), dhx(device);
  const size_t f = sizeof(float);
  for (auto* b : {&w, &dw}) st = st.ok() ? b->allocate(size_t(wnumel) * f, true) : st;
  if (st.ok()) st = x.allocate(size_t(seq * batch * cfg.input_size) * f, true);
  if (st.ok()) st = dx.allocate(size_t(seq * batch * cfg.input_size) * f, false);
  if (st.ok()) st = y.allocate(size_t(seq * batch * cfg.hidden_size) * f, false);
  if (st.ok()) st = hy.allocate(size_t(batch * cfg.hidden_size) * f, false);
  if (st.ok()) st = dhx.allocate(size_t(batch * cfg.hidden_size) * f, false);
  if (st.ok()) st = reserve.allocate(size_t(rnumel) * f, false);
  if (!st.ok()) return fail("cudnnRNNForward", st.message());
  ::cudnn_rnn::rnn::ForwardArgs fa;
  fa.cfg = cfg;
  fa.seq_len = seq;
  fa.batch = batch;
  fa.x = x.get();
  fa.w = w.get();
  fa.y = y.get();
  fa.hy = hy.get();
  fa.reserve = reserve.get();
  st = cuda::rnn::forward(device, fa);
  if (st.ok()) st = synchronize(device);
  if (!st.ok()) return fail("cudnnRNNForward", st.message());
  ::cudnn_rnn::rnn::BackwardArgs ba;
  ba.cfg = cfg;
  ba.seq_len = seq;
  ba.batch = batch;
  ba.x = x.get();
  ba.w = w.get();
  ba.y = y.get();
  ba.reserve = reserve.get();
  ba.dx = dx.get();
  ba.dhx = dhx.get();
  ba.dw = dw.get();
  st = cuda::rnn::backward(device, ba);
  if (st.ok()) st = synchronize(device);
  if (!st.ok()) return fail("cudnnRNNBackward", st.message());
  return SelfTestResult{true, "", ""};
}

SelfTestResult run(int device) {
  if (std::string why = driver_check(); !why.empty()) return fail("driver", why);
  DeviceContext* ctx = nullptr;
  if (Status st = device_context(device, &ctx); !st.ok()) return fail("context", st.message());
  {
    std::lock_guard<std::mutex> lock(ctx->handle_mu);
    cudnn::Handle dnn = nullptr;
    if (Status st = cudnn_handle(*ctx, &dnn); !st.ok()) return fail("cudnnCreate", st.message());
    cublas::Handle blas = nullptr;
    if (Status st = cublas_handle(*ctx, &blas); !st.ok()) return fail("cublasCreate", st.message());
  }
  if (Status st = kernel_check(device); !st.ok()) return fail("kernel", st.message());
  return rnn_check(device);
}

}  // namespace

SelfTestResult self_test(int device) {
  static std::mutex mu;
  static bool done[kMaxDevices] = {};
  static SelfTestResult* results = new SelfTestResult[kMaxDevices];  // never destroyed (used at exit)
  if (device < 0 || device >= kMaxDevices) return fail("context", "no CUDA device " + std::to_string(device));
  std::lock_guard<std::mutex> lock(mu);
  if (!done[device]) {
    try {
      results[device] = run(device);
    } catch (const std::exception& e) {
      results[device] = fail("context", std::string("unexpected failure: ") + e.what());
    } catch (...) {
      results[device] = fail("context", "unexpected failure");
    }
    done[device] = true;
  }
  return results[device];
}

}  // namespace cuda
}  // namespace cudnn_rnn
