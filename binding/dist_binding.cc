// Thin glue for src/dist/ (MPI collectives). lib/distributed/ validates the
// tensors (contiguous, on the CPU) and orders the async calls; the async
// forms run the blocking MPI call on libuv's thread pool.
#include <functional>

#include "convert.h"
#include "cuda/stream.h"
#include "dist/mpi.h"
#include "dist/nccl.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {
namespace {

using dist::ReduceOp;

class CollectiveWorker : public Napi::AsyncWorker {
 public:
  CollectiveWorker(Napi::Env env, std::function<Status()> call)
      : Napi::AsyncWorker(env, "cudnn-rnn:collective"), call_(std::move(call)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { status_ = call_(); }
  void OnOK() override {
    if (status_.ok()) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(StatusToError(Env(), status_).Value());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::function<Status()> call_;
  Status status_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value Queue(Napi::Env env, std::function<Status()> call) {
  auto* worker = new CollectiveWorker(env, std::move(call));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// NCCL queues on the stream of the tensors' device (our one stream per
// device, so it is ordered after the work that made the tensor); device -1
// is host memory with no stream (only the test's fake NCCL accepts that).
Status StreamOf(int device, void** stream) {
  *stream = nullptr;
  return device < 0 ? Status::Ok() : cuda::device_stream(device, stream);
}

// (view..., op, device); `wait`: block until the stream has done it (the async form, on a worker).
std::function<Status()> NcclAllReduceCall(const Napi::CallbackInfo& info, bool wait) {
  View v = ReadView(info, 0);
  auto op = static_cast<dist::NcclOp>(ToInt64(info[kViewArgs]));
  int device = static_cast<int>(ToInt64(info[kViewArgs + 1]));
  void* data = v.data;
  int64_t n = v.numel();
  DType t = v.dtype;
  return [=] {
    void* stream = nullptr;
    Status s = StreamOf(device, &stream);
    if (s.ok()) s = dist::nccl_allreduce(data, n, t, op, stream);
    if (s.ok() && wait && device >= 0) s = cuda::synchronize_stream(device);
    return s;
  };
}

// (view..., root, device)
std::function<Status()> NcclBroadcastCall(const Napi::CallbackInfo& info, bool wait) {
  View v = ReadView(info, 0);
  int root = static_cast<int>(ToInt64(info[kViewArgs]));
  int device = static_cast<int>(ToInt64(info[kViewArgs + 1]));
  void* data = v.data;
  int64_t n = v.numel();
  DType t = v.dtype;
  return [=] {
    void* stream = nullptr;
    Status s = StreamOf(device, &stream);
    if (s.ok()) s = dist::nccl_broadcast(data, n, t, root, stream);
    if (s.ok() && wait && device >= 0) s = cuda::synchronize_stream(device);
    return s;
  };
}

// (view..., op) -> the call, bound to the view's memory.
std::function<Status()> AllReduceCall(const Napi::CallbackInfo& info) {
  View v = ReadView(info, 0);
  auto op = static_cast<ReduceOp>(ToInt64(info[kViewArgs]));
  void* data = v.data;
  int64_t n = v.numel();
  DType t = v.dtype;
  return [=] { return dist::mpi_allreduce(data, n, t, op); };
}

// (view..., root)
std::function<Status()> BroadcastCall(const Napi::CallbackInfo& info) {
  View v = ReadView(info, 0);
  int root = static_cast<int>(ToInt64(info[kViewArgs]));
  void* data = v.data;
  int64_t n = v.numel();
  DType t = v.dtype;
  return [=] { return dist::mpi_broadcast(data, n, t, root); };
}

Napi::Value MpiInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  dist::MpiInfo i = dist::mpi_info();
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", i.loaded);
  o.Set("flavor", i.flavor);
  o.Set("version", i.version);
  o.Set("path", i.path);
  o.Set("reason", i.reason);
  return o;
}

Napi::Value MpiInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rank = 0, size = 0;
  Check(env, dist::mpi_init(&rank, &size));
  if (env.IsExceptionPending()) return env.Undefined();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, rank);
  out.Set(1u, size);
  return out;
}

Napi::Value MpiInitialized(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), dist::mpi_initialized()); }

Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Check(info.Env(), AllReduceCall(info)());
  return info.Env().Undefined();
}
Napi::Value AllReduceAsync(const Napi::CallbackInfo& info) { return Queue(info.Env(), AllReduceCall(info)); }

Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Check(info.Env(), BroadcastCall(info)());
  return info.Env().Undefined();
}
Napi::Value BroadcastAsync(const Napi::CallbackInfo& info) { return Queue(info.Env(), BroadcastCall(info)); }

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Check(info.Env(), dist::mpi_barrier());
  return info.Env().Undefined();
}
Napi::Value BarrierAsync(const Napi::CallbackInfo& info) { return Queue(info.Env(), [] { return dist::mpi_barrier(); }); }

Napi::Value Abort(const Napi::CallbackInfo& info) {
  dist::mpi_abort(static_cast<int>(ToInt64(info[0])));
  return info.Env().Undefined();
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Check(info.Env(), dist::mpi_finalize());
  return info.Env().Undefined();
}

Napi::Value NcclInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  dist::NcclInfo i = dist::nccl_info();
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", i.loaded);
  o.Set("version", i.version);
  o.Set("path", i.path);
  o.Set("reason", i.reason);
  return o;
}

// () -> Buffer of NCCL_UNIQUE_ID_BYTES
Napi::Value NcclUniqueId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, dist::kNcclUniqueIdBytes);
  Check(env, dist::nccl_unique_id(out.Data()));
  return out;
}

// MPI_Bcast of a Buffer's bytes (the unique id) from `root`, in place.
Napi::Value BroadcastBytes(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> b = info[0].As<Napi::Buffer<uint8_t>>();
  Check(info.Env(), dist::mpi_broadcast_bytes(b.Data(), static_cast<int64_t>(b.Length()), static_cast<int>(ToInt64(info[1]))));
  return info.Env().Undefined();
}

// (id Buffer, nranks, rank, device)
Napi::Value NcclInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> id = info[0].As<Napi::Buffer<uint8_t>>();
  if (id.Length() != static_cast<size_t>(dist::kNcclUniqueIdBytes)) {
    ThrowStatus(env, Status(StatusCode::InvalidArgument, "cudnn-rnn native: an NCCL unique id is 128 bytes"));
    return env.Undefined();
  }
  int device = static_cast<int>(ToInt64(info[3]));
  void* stream = nullptr;
  Status s = StreamOf(device, &stream);  // makes `device` current: ncclCommInitRank uses it
  if (s.ok()) s = dist::nccl_init(static_cast<int>(ToInt64(info[1])), id.Data(), static_cast<int>(ToInt64(info[2])), device);
  Check(env, s);
  return env.Undefined();
}

Napi::Value NcclAllReduce(const Napi::CallbackInfo& info) {
  Check(info.Env(), NcclAllReduceCall(info, false)());
  return info.Env().Undefined();
}
Napi::Value NcclAllReduceAsync(const Napi::CallbackInfo& info) { return Queue(info.Env(), NcclAllReduceCall(info, true)); }
Napi::Value NcclBroadcast(const Napi::CallbackInfo& info) {
  Check(info.Env(), NcclBroadcastCall(info, false)());
  return info.Env().Undefined();
}
Napi::Value NcclBroadcastAsync(const Napi::CallbackInfo& info) { return Queue(info.Env(), NcclBroadcastCall(info, true)); }

Napi::Value NcclDestroy(const Napi::CallbackInfo& info) {
  Check(info.Env(), dist::nccl_destroy());
  return info.Env().Undefined();
}

}  // namespace

void RegisterDist(Napi::Env env, Napi::Object exports) {
  exports.Set("distMpiInfo", Napi::Function::New(env, MpiInfo));
  exports.Set("distMpiInit", Napi::Function::New(env, MpiInit));
  exports.Set("distMpiInitialized", Napi::Function::New(env, MpiInitialized));
  exports.Set("distAllReduce", Napi::Function::New(env, AllReduce));
  exports.Set("distAllReduceAsync", Napi::Function::New(env, AllReduceAsync));
  exports.Set("distBroadcast", Napi::Function::New(env, Broadcast));
  exports.Set("distBroadcastAsync", Napi::Function::New(env, BroadcastAsync));
  exports.Set("distBarrier", Napi::Function::New(env, Barrier));
  exports.Set("distBarrierAsync", Napi::Function::New(env, BarrierAsync));
  exports.Set("distAbort", Napi::Function::New(env, Abort));
  exports.Set("distFinalize", Napi::Function::New(env, Finalize));
  exports.Set("distBroadcastBytes", Napi::Function::New(env, BroadcastBytes));
  exports.Set("distNcclInfo", Napi::Function::New(env, NcclInfo));
  exports.Set("distNcclUniqueId", Napi::Function::New(env, NcclUniqueId));
  exports.Set("distNcclInit", Napi::Function::New(env, NcclInit));
  exports.Set("distNcclAllReduce", Napi::Function::New(env, NcclAllReduce));
  exports.Set("distNcclAllReduceAsync", Napi::Function::New(env, NcclAllReduceAsync));
  exports.Set("distNcclBroadcast", Napi::Function::New(env, NcclBroadcast));
  exports.Set("distNcclBroadcastAsync", Napi::Function::New(env, NcclBroadcastAsync));
  exports.Set("distNcclDestroy", Napi::Function::New(env, NcclDestroy));
}

}  // namespace binding
}  // namespace cudnn_rnn
