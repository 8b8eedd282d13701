// The cuDNN RNN's entry points (rnn.h): forward (cudnnRNNForward), backward
// (cudnnRNNBackwardData_v8, then cudnnRNNBackwardWeights_v8 into a zeroed
// dw), the bench's raw timing, and the TF32 switch. Descriptors come from the
// per-shape cache (cudnn_rnn_descriptors.h); the only allocation of a steady
// training step is the workspace, served by the stream-ordered caching
// allocator's pool. Every call holds the device's handle_mu while it uses
// the cuDNN handle and returns once its work is queued on the device's stream.
// The algorithm is PyTorch's choice (rnn_policy.h), kept per descriptor; a
// cuDNN call that fails to allocate its own memory is retried once after
// our idle cached blocks are released (cudnn_retry).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "../rnn.h"
#include "cudnn_rnn_descriptors.h"
#include "cudnn_rnn_dropout.h"
#include "cudnn_rnn_internal.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {

namespace {

std::atomic<bool> g_allow_tf32{false};

}  // namespace

namespace detail {
namespace {

Status check_dropout(double p) {
  if (!(p >= 0.0 && p <= 1.0)) return invalid("dropout must be in [0, 1], got " + std::to_string(p));
  return Status::Ok();
}

// Rows of x/y: seq_len * batch, or sum(batch_sizes) for packed input.
int64_t packed_rows(const int64_t* batch_sizes, int64_t seq_len, int64_t batch) {
  if (batch_sizes == nullptr) return seq_len * batch;
  int64_t rows = 0;
  for (int64_t t = 0; t < seq_len; ++t) rows += batch_sizes[t];
  return rows;
}

// Packed input: cuDNN's packed layout wants the lengths longest first, so
// the batch sizes must be non-increasing from `batch` down to >= 1.
Status check_batch_sizes(const int64_t* batch_sizes, int64_t seq_len, int64_t batch) {
  if (batch_sizes == nullptr) return Status::Ok();
  bool ok = batch_sizes[0] == batch && batch_sizes[seq_len - 1] >= 1;
  for (int64_t t = 1; ok && t < seq_len; ++t) ok = batch_sizes[t] <= batch_sizes[t - 1];
  return ok ? Status::Ok() : invalid("batch_sizes must be non-increasing, start at batch and end >= 1");
}

Status check_forward(const ForwardArgs& a) {
  CUDNN_RNN_RETURN_IF_ERROR(check_shape(a.cfg, a.seq_len, a.batch));
  CUDNN_RNN_RETURN_IF_ERROR(check_batch_sizes(a.batch_sizes, a.seq_len, a.batch));
  CUDNN_RNN_RETURN_IF_ERROR(check_dropout(a.dropout));
  if (a.w == nullptr) return invalid("w is null");
  if (a.batch > 0 && a.x == nullptr) return invalid("x is null");
  if (a.batch > 0 && a.y == nullptr) return invalid("y is null");
  return Status::Ok();
}

// The cached descriptors for a call, and the reserve the caller allocated.
struct Prepared {
  Session s;
  std::shared_ptr<Entry> e;
  bool training = false;
};

// With ctx.handle_mu held. The reserve check guards the promise that the
// buffer has reserve_numel() elements: cuDNN is told the size this
// descriptor needs, which must fit in it.
Status prepare(DeviceContext& ctx, const Config& cfg, int64_t seq_len, int64_t batch, double dropout, bool training,
               Prepared* p, const int64_t* batch_sizes) {
  CUDNN_RNN_RETURN_IF_ERROR(open_session(ctx, &p->s));
  p->training = training;
  const float drop = effective_dropout(cfg, training, dropout);
  const Key key = make_key(p->s, cfg, seq_len, batch, drop, math_type(cfg), training, batch_sizes);
  CUDNN_RNN_RETURN_IF_ERROR(acquire_entry(p->s, key, &p->e));
  if (training) {
    size_t promised = 0;
    CUDNN_RNN_RETURN_IF_ERROR(promised_reserve_bytes(p->s, cfg, seq_len, batch, dropout, &promised, batch_sizes));
    if (p->e->reserve_bytes > promised) {
      return Status(StatusCode::Internal,
                    "rnn (cuda): cuDNN asks for " + std::to_string(p->e->reserve_bytes) +
                        " reserve bytes with dropout " + std::to_string(drop) + ", more than the " +
                        std::to_string(promised) + " that reserve_numel() gave");
    }
  }
  return Status::Ok();
}

Status run_forward(const Prepared& p, const ForwardArgs& a, void* work, int* raw = nullptr) {
  const Entry& e = *p.e;
  return cudnn_retry(p.s.device, "cudnnRNNForward", [&] {
    return p.s.api.cudnnRNNForward(p.s.handle, e.model.rnn.get(),
                              p.training ? cudnn::kFwdModeTraining : cudnn::kFwdModeInference,
                              static_cast<const int32_t*>(e.seq_lengths.get()), e.x.get(), a.x, e.y.get(), a.y,
                              e.h.get(), a.hx, a.hy,
                              // The LSTM's cell state (NULL cx = zeros, NULL cy = not
                              // wanted); RNN/GRU pass NULL with the descriptor.
                              e.c.get(), a.cx, a.cy, e.weight_bytes, a.w, e.work_bytes, work,
                              p.training ? e.reserve_bytes : 0, p.training ? a.reserve : nullptr);
  }, raw);
}

// cuDNN may refuse a persistent algorithm only when it runs (NOT_SUPPORTED
// for this shape on this GPU): the descriptors are remade with STANDARD,
// kept in the cache in place of the others, and the forward run again.
// A training reserve sized for the persistent algorithm must still fit.
Status forward_with_fallback(Prepared& p, const ForwardArgs& a, DeviceBuffer& work) {
  int raw = 0;
  Status st = run_forward(p, a, work.get(), &raw);
  if (st.ok() || p.e->algo == policy::kAlgoStandard || !policy::is_not_supported(loaded().cudnn_major, raw))
    return st;
  std::shared_ptr<Entry> standard;
  CUDNN_RNN_RETURN_IF_ERROR(replace_with_standard(p.s, p.e->key, &standard));
  if (p.training && standard->reserve_bytes > p.e->reserve_bytes) return st;
  p.e = standard;
  if (p.e->key.dropout > 0.0f)
    CUDNN_RNN_RETURN_IF_ERROR(refresh_dropout(p.s, p.e->model.dropout.get(), p.e->key.dropout));
  CUDNN_RNN_RETURN_IF_ERROR(work.allocate(p.s.device, p.e->work_bytes, false));
  return run_forward(p, a, work.get());
}

Status forward_impl(int device, const ForwardArgs& a) {
  CUDNN_RNN_RETURN_IF_ERROR(check_forward(a));
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  if (a.batch == 0) return Status::Ok();  // y and hy are empty; cuDNN may refuse a batch of 0
  std::lock_guard<std::mutex> lock(ctx->handle_mu);
  Prepared p;
  const bool training = a.reserve != nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(prepare(*ctx, a.cfg, a.seq_len, a.batch, a.dropout, training, &p, a.batch_sizes));
  if (p.e->key.dropout > 0.0f)
    CUDNN_RNN_RETURN_IF_ERROR(refresh_dropout(p.s, p.e->model.dropout.get(), p.e->key.dropout));
  DeviceBuffer work;
  CUDNN_RNN_RETURN_IF_ERROR(work.allocate(device, p.e->work_bytes, false));
  return forward_with_fallback(p, a, work);
}

Status backward_impl(int device, const BackwardArgs& a) {
  const Config& cfg = a.cfg;
  CUDNN_RNN_RETURN_IF_ERROR(check_shape(cfg, a.seq_len, a.batch));
  CUDNN_RNN_RETURN_IF_ERROR(check_batch_sizes(a.batch_sizes, a.seq_len, a.batch));
  CUDNN_RNN_RETURN_IF_ERROR(check_dropout(a.dropout));
  if (a.reserve == nullptr) return invalid("backward needs the reserve of a training-mode forward");
  if (a.w == nullptr) return invalid("w is null");
  if (a.batch > 0 && a.x == nullptr) return invalid("x is null");
  if (a.batch > 0 && a.y == nullptr) return invalid("y is null (cuDNN's backward reads the forward's output)");
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  std::lock_guard<std::mutex> lock(ctx->handle_mu);

  if (a.batch == 0) {
    // Nothing ran forward: dx and dhx are empty, dw is zero.
    if (a.dw == nullptr) return Status::Ok();
    Session s;
    CUDNN_RNN_RETURN_IF_ERROR(open_session(*ctx, &s));
    size_t wbytes = 0;
    CUDNN_RNN_RETURN_IF_ERROR(weight_space_bytes(s, cfg, &wbytes));
    return cuda_status(cudaMemsetAsync(a.dw, 0, wbytes, ctx->stream), "cudaMemsetAsync (dw)");
  }

  Prepared p;
  CUDNN_RNN_RETURN_IF_ERROR(prepare(*ctx, cfg, a.seq_len, a.batch, a.dropout, /*training=*/true, &p, a.batch_sizes));
  const Entry& e = *p.e;
  const cudnn::Api& api = p.s.api;
  const size_t elem = dtype_size(cfg.dtype);
  const size_t tn = static_cast<size_t>(packed_rows(a.batch_sizes, a.seq_len, a.batch));

  // cuDNN reads dy and always writes dx: stand-ins when the caller has none.
  DeviceBuffer dy_zero, dx_scratch;
  const void* dy = a.dy;
  if (dy == nullptr) {
    CUDNN_RNN_RETURN_IF_ERROR(
        dy_zero.allocate(device, tn * static_cast<size_t>(directions(cfg) * ::cudnn_rnn::rnn::output_size(cfg)) * elem, true));
    dy = dy_zero.get();
  }
  void* dx = a.dx;
  if (dx == nullptr) {
    CUDNN_RNN_RETURN_IF_ERROR(dx_scratch.allocate(device, tn * static_cast<size_t>(cfg.input_size) * elem, false));
    dx = dx_scratch.get();
  }
  DeviceBuffer work;
  CUDNN_RNN_RETURN_IF_ERROR(work.allocate(device, e.work_bytes, false));
  void* reserve = const_cast<void*>(a.reserve);
  const int32_t* lengths = static_cast<const int32_t*>(e.seq_lengths.get());

  // Always run: the weight gradient needs what it leaves in the reserve.
  CUDNN_RNN_RETURN_IF_ERROR(cudnn_retry(device, "cudnnRNNBackwardData_v8", [&] {
      return api.cudnnRNNBackwardData_v8(p.s.handle, e.model.rnn.get(), lengths, e.y.get(), a.y, dy, e.x.get(), dx,
                                  e.h.get(), a.hx, a.dhy, a.dhx,
                                  // The LSTM's cell state; NULL cx/dcy = zeros, NULL dcx = not
                                  // wanted (always NULL for RNN/GRU).
                                  e.c.get(), a.cx, a.dcy, a.dcx, e.weight_bytes, a.w, e.work_bytes,
                                  work.get(), e.reserve_bytes, reserve);
  }));
  if (a.dw == nullptr) return Status::Ok();
  // cuDNN 8 supports only WGRAD_MODE_ADD: accumulate into a zeroed dw.
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaMemsetAsync(a.dw, 0, e.weight_bytes, ctx->stream), "cudaMemsetAsync (dw)"));
  return cudnn_retry(device, "cudnnRNNBackwardWeights_v8", [&] {
    return api.cudnnRNNBackwardWeights_v8(p.s.handle, e.model.rnn.get(), cudnn::kWgradModeAdd, lengths, e.x.get(), a.x,
                                          e.h.get(), a.hx, e.y.get(), a.y, e.weight_bytes, a.dw, e.work_bytes,
                                          work.get(), e.reserve_bytes, reserve);
  });
}

// A CUDA event destroyed with its scope.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() {
    if (event_ != nullptr) cudaEventDestroy(event_);
  }
  Status create() { return cuda_status(cudaEventCreate(&event_), "cudaEventCreate"); }
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

Status time_impl(int device, const ForwardArgs& a, int iters, double* ms_per_call) {
  CUDNN_RNN_RETURN_IF_ERROR(check_forward(a));
  if (iters < 1) return invalid("iters must be at least 1, got " + std::to_string(iters));
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  if (a.batch == 0) return Status::Ok();  // nothing runs: 0 ms
  std::unique_lock<std::mutex> lock(ctx->handle_mu);
  Prepared p;
  CUDNN_RNN_RETURN_IF_ERROR(prepare(*ctx, a.cfg, a.seq_len, a.batch, a.dropout, a.reserve != nullptr, &p, a.batch_sizes));
  if (p.e->key.dropout > 0.0f)
    CUDNN_RNN_RETURN_IF_ERROR(refresh_dropout(p.s, p.e->model.dropout.get(), p.e->key.dropout));
  DeviceBuffer work;  // allocated once, outside the timed loop
  CUDNN_RNN_RETURN_IF_ERROR(work.allocate(device, p.e->work_bytes, false));
  CUDNN_RNN_RETURN_IF_ERROR(forward_with_fallback(p, a, work));  // warm-up (settles the algorithm)
  Event start, stop;
  CUDNN_RNN_RETURN_IF_ERROR(start.create());
  CUDNN_RNN_RETURN_IF_ERROR(stop.create());
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaEventRecord(start.get(), ctx->stream), "cudaEventRecord"));
  for (int i = 0; i < iters; ++i) CUDNN_RNN_RETURN_IF_ERROR(run_forward(p, a, work.get()));
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaEventRecord(stop.get(), ctx->stream), "cudaEventRecord"));
  lock.unlock();  // the wait needs no handle
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaEventSynchronize(stop.get()), "cudaEventSynchronize"));
  float ms = 0.0f;
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime"));
  *ms_per_call = static_cast<double>(ms) / iters;
  return Status::Ok();
}

}  // namespace
}  // namespace detail

Status forward(int device, const ForwardArgs& args) {
  return detail::guarded("forward", [&] { return detail::forward_impl(device, args); });
}

Status backward(int device, const BackwardArgs& args) {
  return detail::guarded("backward", [&] { return detail::backward_impl(device, args); });
}

Status time_raw_forward(int device, const ForwardArgs& args, int iters, double* ms_per_call) {
  if (ms_per_call == nullptr) return Status(StatusCode::Internal, "rnn (cuda): time_raw_forward: null output");
  *ms_per_call = 0.0;
  return detail::guarded("time_raw_forward", [&] { return detail::time_impl(device, args, iters, ms_per_call); });
}

void set_allow_tf32(bool allow) { g_allow_tf32.store(allow, std::memory_order_relaxed); }

bool allow_tf32() { return g_allow_tf32.load(std::memory_order_relaxed); }

}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
