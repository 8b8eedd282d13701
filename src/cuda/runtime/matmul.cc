// Batched matrix multiply on cuBLAS (kernel_contract.inc): a (B, M, K) x
// b (B, K, N) -> out (B, M, N), with cublas{S,D}gemmStridedBatched.
//
// cuBLAS is column-major; our matrices are row-major. A row-major matrix
// with leading dimension ld, read column-major with the same ld, is its
// transpose, so row-major C = A·B is computed as column-major Cᵀ = Bᵀ·Aᵀ:
// b is cuBLAS's first operand, a its second, m = N, n = M, k = K
// (shared/reference/cudnn-api.md §5.1).
//
// Operands: one whose matrix has a unit stride in either of its two dims
// (and the other stride at least the matrix's extent) is passed as it is,
// with OP_N (plain row-major) or OP_T (a transposed view such as w.T); any
// other is first copied into a contiguous temporary
// with cuda::copy. Batch strides go straight to the strided-batched call, 0
// (broadcast) included. A broadcast right operand with a plainly stacked
// left operand and output runs as one tall gemm (x @ W.T of a linear layer).
// The output is written directly when its rows are unit-stride, else through
// a temporary copied back. Temporaries are freed right after their last use
// is queued: the allocator's blocks are ordered on the same stream.
#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "../discovery.h"
#include "../kernels.h"
#include "../memory.h"
#include "../rnn_policy.h"
#include "context.h"

namespace cudnn_rnn {
namespace cuda {
namespace {

Status invalid(const std::string& message) { return Status(StatusCode::InvalidArgument, "matmul: " + message); }

bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

// Can a rows x cols matrix with strides (rs, cs) be read as it is, and how?
// Plain (row-major): element (i, j) at i * ld + j. Transposed: element (i, j)
// at j * ld + i. Degenerate dims (size <= 1) accept any stride; cuBLAS needs
// ld >= max(1, stored row length), and ld must fit its int.
bool gemm_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool* trans, int64_t* ld) {
  if ((cols <= 1 || cs == 1) && (rows <= 1 || rs >= std::max<int64_t>(1, cols))) {
    *trans = false;
    *ld = rows <= 1 ? std::max<int64_t>(1, cols) : rs;
    return fits_int(*ld);
  }
  if ((rows <= 1 || rs == 1) && (cols <= 1 || cs >= std::max<int64_t>(1, rows))) {
    *trans = true;
    *ld = cols <= 1 ? std::max<int64_t>(1, rows) : cs;
    return fits_int(*ld);
  }
  return false;
}

// Device temporaries, returned to the pool when the call ends (after the
// work that uses them has been queued).
struct Temporaries {
  int device;
  std::vector<void*> blocks;
  explicit Temporaries(int d) : device(d) {}
  ~Temporaries() {
    for (void* p : blocks) device_free(device, p);
  }
  Status alloc(size_t nbytes, void** out) {
    CUDNN_RNN_RETURN_IF_ERROR(device_alloc(device, nbytes, false, out));
    blocks.push_back(*out);
    return Status::Ok();
  }
};

// One operand as cuBLAS sees it: matrix i starts at data + i * batch_stride.
struct Operand {
  const void* data = nullptr;
  bool trans = false;
  int64_t ld = 1;
  int64_t batch_stride = 0;
};

View contiguous_like(const View& v, void* data, int64_t batch) {
  View d = v;
  d.data = data;
  d.shape[0] = batch;
  d.strides[2] = 1;
  d.strides[1] = v.shape[2];
  d.strides[0] = v.shape[1] * v.shape[2];
  return d;
}

Status prepare_operand(const View& v, Temporaries& temps, Operand* op) {
  const int64_t batch = v.shape[0], rows = v.shape[1], cols = v.shape[2];
  op->batch_stride = batch <= 1 ? 0 : v.strides[0];
  if (op->batch_stride >= 0 && gemm_layout(rows, cols, v.strides[1], v.strides[2], &op->trans, &op->ld)) {
    op->data = v.data;
    return Status::Ok();
  }
  // A contiguous copy; a broadcast batch is copied once.
  const int64_t copies = batch > 1 && v.strides[0] == 0 ? 1 : batch;
  void* p = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(temps.alloc(static_cast<size_t>(copies * rows * cols) * dtype_size(v.dtype), &p));
  View src = v;
  src.shape[0] = copies;
  CUDNN_RNN_RETURN_IF_ERROR(copy(src, contiguous_like(v, p, copies)));
  op->data = p;
  op->trans = false;
  op->ld = std::max<int64_t>(1, cols);
  op->batch_stride = copies == 1 ? 0 : rows * cols;
  if (!fits_int(op->ld)) return invalid("a matrix dimension exceeds cuBLAS's int range");
  return Status::Ok();
}

std::string cublas_failure(const cublas::Api& api, const char* fn, cublas::Status st) {
  const char* text = api.cublasGetStatusString ? api.cublasGetStatusString(st) : nullptr;
  return std::string(fn) + " failed: " + (text ? text : "unknown cuBLAS status") + " (status " + std::to_string(st) +
         ")";
}

}  // namespace

Status matmul(const View& a, const View& b, const View& out) {
  if (a.ndim != 3 || b.ndim != 3 || out.ndim != 3) return invalid("expected (B, M, K), (B, K, N) and (B, M, N) views");
  for (const View* v : {&a, &b, &out}) {
    for (int i = 0; i < 3; ++i)
      if (v->shape[i] < 0) return invalid("negative size");
  }
  if (a.shape[0] != out.shape[0] || b.shape[0] != out.shape[0] || a.shape[1] != out.shape[1] ||
      b.shape[2] != out.shape[2] || a.shape[2] != b.shape[1]) {
    return invalid("shapes do not match");
  }
  if (a.dtype != out.dtype || b.dtype != out.dtype) return invalid("dtypes differ");
  if (out.dtype == DType::Int32) return invalid("int32 is not supported on CUDA devices (use float32 or float64)");
  if (out.dtype != DType::Float32 && out.dtype != DType::Float64) return invalid("unsupported dtype");
  if (out.device.type != DeviceType::Cuda || a.device.type != DeviceType::Cuda || b.device.type != DeviceType::Cuda ||
      a.device.index != out.device.index || b.device.index != out.device.index) {
    return invalid("operands must all be on the same CUDA device");
  }
  const int64_t batch = out.shape[0], m = out.shape[1], n = out.shape[2], k = a.shape[2];
  if (out.numel() == 0) return Status::Ok();
  if (out.data == nullptr || (k > 0 && (a.data == nullptr || b.data == nullptr))) return invalid("null data pointer");

  const int device = out.device.index;
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  const size_t elem = dtype_size(out.dtype);

  if (k == 0) {  // a sum of nothing
    if (out.is_contiguous()) {
      return cuda_status(cudaMemsetAsync(out.data, 0, static_cast<size_t>(out.numel()) * elem, ctx->stream),
                         "cudaMemsetAsync");
    }
    return fill(out, 0.0);
  }

  if (!fits_int(batch) || !fits_int(m) || !fits_int(n) || !fits_int(k)) {
    return invalid("a dimension exceeds cuBLAS's int range (2^31 - 1)");
  }

  const bool f32 = out.dtype == DType::Float32;
  const char* fn_name = f32 ? "cublasSgemmStridedBatched" : "cublasDgemmStridedBatched";
  {
    // Reports a missing cuBLAS before any work is queued (and makes the
    // handle on first use).
    std::lock_guard<std::mutex> lock(ctx->handle_mu);
    cublas::Handle h = nullptr;
    CUDNN_RNN_RETURN_IF_ERROR(cublas_handle(*ctx, &h));
  }
  const cublas::Api api = loaded().cublas;
  if (f32 ? api.cublasSgemmStridedBatched == nullptr : api.cublasDgemmStridedBatched == nullptr) {
    return Status(StatusCode::BackendUnavailable,
                  std::string("the loaded cuBLAS library does not export ") + fn_name + " (not a real cuBLAS 12/13?)");
  }

  Temporaries temps(device);
  Operand ga, gb;
  CUDNN_RNN_RETURN_IF_ERROR(prepare_operand(a, temps, &ga));
  CUDNN_RNN_RETURN_IF_ERROR(prepare_operand(b, temps, &gb));

  // The result goes straight into out when its rows are unit-stride and its
  // matrices do not overlap; otherwise through a contiguous temporary.
  bool out_trans = false;
  int64_t ldc = 1;
  int64_t c_stride = batch <= 1 ? 0 : out.strides[0];
  const bool direct = gemm_layout(m, n, out.strides[1], out.strides[2], &out_trans, &ldc) && !out_trans &&
                      (batch <= 1 || c_stride >= (m - 1) * ldc + n);
  void* c = out.data;
  if (!direct) {
    CUDNN_RNN_RETURN_IF_ERROR(temps.alloc(static_cast<size_t>(batch * m * n) * elem, &c));
    ldc = std::max<int64_t>(1, n);
    c_stride = m * n;
    if (!fits_int(ldc)) return invalid("a matrix dimension exceeds cuBLAS's int range");
  }

  // x @ W.T with W shared by the batch: one (B*M, K) x (K, N) gemm.
  const bool fold = batch > 1 && gb.batch_stride == 0 && !ga.trans && ga.batch_stride == m * ga.ld &&
                    c_stride == m * ldc && fits_int(batch * m);
  const int64_t gemm_count = fold ? 1 : batch;
  const int64_t gemm_m = fold ? batch * m : m;
  if (!fits_int(n) || !fits_int(gemm_m) || !fits_int(k) || !fits_int(gemm_count)) {
    return invalid("a dimension exceeds cuBLAS's int range (2^31 - 1)");
  }

  // Column-major Cᵀ (N x gemm_m) = Bᵀ (N x K) · Aᵀ (K x gemm_m).
  const cublas::Operation op_b = gb.trans ? cublas::kOpT : cublas::kOpN;
  const cublas::Operation op_a = ga.trans ? cublas::kOpT : cublas::kOpN;
  cublas::Status st = cublas::kSuccess;
  {
    std::lock_guard<std::mutex> lock(ctx->handle_mu);
    cublas::Handle h = nullptr;
    CUDNN_RNN_RETURN_IF_ERROR(cublas_handle(*ctx, &h));
    // cuBLAS allocates its own workspace outside our pool: on ALLOC_FAILED
    // our idle blocks are released and the call made once more.
    auto gemm = [&]() -> int {
    if (f32) {
      const float one = 1.0f, zero = 0.0f;
      return api.cublasSgemmStridedBatched(h, op_b, op_a, int(n), int(gemm_m), int(k), &one,
                                         static_cast<const float*>(gb.data), int(gb.ld), gb.batch_stride,
                                         static_cast<const float*>(ga.data), int(ga.ld), ga.batch_stride, &zero,
                                         static_cast<float*>(c), int(ldc), fold ? 0 : c_stride, int(gemm_count));
    } else {
      const double one = 1.0, zero = 0.0;
      return api.cublasDgemmStridedBatched(h, op_b, op_a, int(n), int(gemm_m), int(k), &one,
                                         static_cast<const double*>(gb.data), int(gb.ld), gb.batch_stride,
                                         static_cast<const double*>(ga.data), int(ga.ld), ga.batch_stride, &zero,
                                         static_cast<double*>(c), int(ldc), fold ? 0 : c_stride, int(gemm_count));
    }
    };
    st = policy::call_with_release_retry(policy::Library::Cublas, 0, gemm,
                                         [&] { return empty_cache(ctx->index).ok(); });
  }
  if (st != cublas::kSuccess) {
    return Status(st == cublas::kStatusAllocFailed ? StatusCode::OutOfMemory : StatusCode::BackendFailure,
                  cublas_failure(api, fn_name, st));
  }
  if (!direct) {
    View staged = out;
    staged.data = c;
    staged.strides[2] = 1;
    staged.strides[1] = n;
    staged.strides[0] = m * n;
    return copy(staged, out);
  }
  return Status::Ok();
}

}  // namespace cuda
}  // namespace cudnn_rnn
