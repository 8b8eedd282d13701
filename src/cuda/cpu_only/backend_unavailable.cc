// The CUDA backend's stand-in in an addon built without nvcc: the same
// functions (cuda/memory.h, cuda/kernels.h, cuda/rnn.h), each reporting that
// this build has no GPU code. lib/ normally refuses 'cuda' before any of
// these runs (cuda.backendHasKernels() is false); they keep a bug there from
// turning into a crash.
#include "../kernels.h"
#include "../memory.h"
#include "../rnn.h"

namespace cudnn_rnn {
namespace cuda {

namespace {
Status unavailable() {
  return Status(StatusCode::BackendUnavailable,
                "this cudnn-rnn addon was built without CUDA (nvcc was not found when it was compiled); "
                "rebuild on a machine with the CUDA toolkit, or use a prebuilt binary");
}
}  // namespace

bool built_with_cuda() { return false; }

Status device_alloc(int, size_t, bool, void** out) {
  *out = nullptr;
  return unavailable();
}
void device_free(int, void*) {}
MemoryStats memory_stats(int) { return MemoryStats(); }
void reset_peak(int) {}
Status empty_cache(int) { return Status::Ok(); }
Status copy_to_device(int, void*, const void*, size_t) { return unavailable(); }
Status copy_to_host(int, void*, const void*, size_t) { return unavailable(); }
Status copy_on_device(int, void*, const void*, size_t) { return unavailable(); }
Status synchronize(int) { return Status::Ok(); }

Status unary(UnaryOp, const View&, const View&) { return unavailable(); }
Status binary(BinaryOp, const View&, const View&, const View&) { return unavailable(); }
Status binary_scalar(BinaryOp, const View&, double, bool, const View&) { return unavailable(); }
Status axpy(const View&, double, const View&, const View&) { return unavailable(); }
Status copy(const View&, const View&) { return unavailable(); }
Status fill(const View&, double) { return unavailable(); }
Status arange(const View&, double, double) { return unavailable(); }
Status sum(const View&, const View&) { return unavailable(); }
Status max_dim(const View&, int, const View&, const View*) { return unavailable(); }
Status softmax(const View&, int, bool, const View&) { return unavailable(); }
Status softmax_backward(const View&, const View&, int, bool, const View&) { return unavailable(); }
Status matmul(const View&, const View&, const View&) { return unavailable(); }
Status index_select_rows(const View&, const View&, const View&) { return unavailable(); }
Status index_add_rows(const View&, const View&, const View&) { return unavailable(); }

namespace rnn {
Status weight_layout(int, const Config&, std::vector<ParamSlot>* slots, int64_t* numel) {
  slots->clear();
  *numel = 0;
  return unavailable();
}
Status reserve_numel(int, const Config&, int64_t, int64_t, double, int64_t* numel, const int64_t*) {
  *numel = 0;
  return unavailable();
}
Status forward(int, const ForwardArgs&) { return unavailable(); }
Status backward(int, const BackwardArgs&) { return unavailable(); }
Status time_raw_forward(int, const ForwardArgs&, int, double* ms) {
  *ms = 0;
  return unavailable();
}
void set_allow_tf32(bool) {}
bool allow_tf32() { return false; }
void set_dropout_seed(uint64_t) {}
}  // namespace rnn

}  // namespace cuda
}  // namespace cudnn_rnn
