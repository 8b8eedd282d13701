// Batched matrix multiply, (B, M, K) x (B, K, N) -> (B, M, N), on the BLAS
// gemm of blas.h. An operand with a unit stride in one of its two matrix dims
// goes to the gemm as it is (leading dimension from the other stride, a
// transpose flag for column-major views such as x.T); any other operand is
// copied to a contiguous temporary first. Batch stride 0 (broadcast) is
// honoured without copying, and a broadcast right operand lets the whole
// batch run as one tall gemm (the usual x @ W.T of a linear layer).
#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include "blas.h"
#include "kernels.h"
#include "kernels_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace {

using detail::invalid;

// One operand as the gemm sees it: matrix b starts at data + b * batch_stride.
template <typename T>
struct GemmOperand {
  const T* data = nullptr;
  bool trans = false;
  int64_t ld = 1;
  int64_t batch_stride = 0;
  std::vector<T> storage;  // the contiguous copy, when one was needed
};

// Can a rows x cols matrix with strides (rs, cs) be read by a row-major gemm,
// and how? Plain: element (i, j) at i * ld + j. Transposed: stored as a
// cols x rows matrix, element (i, j) at j * ld + i. Degenerate dims (size <= 1)
// accept any stride; the gemm needs ld >= max(1, stored row length).
bool gemm_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool* trans, int64_t* ld) {
  if ((cols <= 1 || cs == 1) && (rows <= 1 || rs >= std::max<int64_t>(1, cols))) {
    *trans = false;
    *ld = rows <= 1 ? std::max<int64_t>(1, cols) : rs;
    return true;
  }
  if ((rows <= 1 || rs == 1) && (cols <= 1 || cs >= std::max<int64_t>(1, rows))) {
    *trans = true;
    *ld = cols <= 1 ? std::max<int64_t>(1, rows) : cs;
    return true;
  }
  return false;
}

// Operand v (batch, rows, cols) ready for the gemm; may throw bad_alloc.
template <typename T>
Status prepare_operand(const View& v, GemmOperand<T>* op) {
  const int64_t batch = v.shape[0], rows = v.shape[1], cols = v.shape[2];
  op->batch_stride = batch <= 1 ? 0 : v.strides[0];
  if (gemm_layout(rows, cols, v.strides[1], v.strides[2], &op->trans, &op->ld)) {
    op->data = v.ptr<T>();
    return Status::Ok();
  }
  // Copy to contiguous; a broadcast batch is copied once.
  const int64_t copies = op->batch_stride == 0 ? 1 : batch;
  op->storage.resize(static_cast<size_t>(copies * rows * cols));
  View src = v;
  src.shape[0] = copies;
  View dst = src;
  dst.data = op->storage.data();
  dst.strides[0] = rows * cols;
  dst.strides[1] = cols;
  dst.strides[2] = 1;
  CUDNN_RNN_RETURN_IF_ERROR(copy(src, dst));
  op->data = op->storage.data();
  op->trans = false;
  op->ld = std::max<int64_t>(1, cols);
  op->batch_stride = copies == 1 ? 0 : rows * cols;
  return Status::Ok();
}

template <typename T>
Status matmul_float(const View& a, const View& b, const View& out) {
  const int64_t batch = out.shape[0], m = out.shape[1], n = out.shape[2], k = a.shape[2];
  GemmOperand<T> ga, gb;
  CUDNN_RNN_RETURN_IF_ERROR(prepare_operand(a, &ga));
  CUDNN_RNN_RETURN_IF_ERROR(prepare_operand(b, &gb));

  // The result goes straight into out when its rows are unit-stride.
  bool out_trans = false;
  int64_t ldc = 1;
  const bool direct = gemm_layout(m, n, out.strides[1], out.strides[2], &out_trans, &ldc) && !out_trans;
  std::vector<T> staged;
  T* c = out.ptr<T>();
  int64_t c_batch_stride = batch <= 1 ? 0 : out.strides[0];
  if (!direct) {
    staged.resize(static_cast<size_t>(batch * m * n));
    c = staged.data();
    ldc = std::max<int64_t>(1, n);
    c_batch_stride = m * n;
  }

  // beta = 0 overwrites C. Whether a BLAS reads C at all then (NaN * 0)
  // varies, so C is zeroed first: cheap next to the multiply.
  const bool fold = batch > 1 && gb.batch_stride == 0 && !ga.trans && ga.batch_stride == m * ga.ld &&
                    c_batch_stride == m * ldc;
  const int64_t gemm_count = fold ? 1 : batch;
  const int64_t gemm_m = fold ? batch * m : m;
  for (int64_t i = 0; i < gemm_count; ++i) {
    T* ci = c + i * c_batch_stride;
    for (int64_t r = 0; r < gemm_m; ++r) std::fill(ci + r * ldc, ci + r * ldc + n, T(0));
    blas::gemm(ga.trans, gb.trans, gemm_m, n, k, T(1), ga.data + i * ga.batch_stride, ga.ld,
               gb.data + i * gb.batch_stride, gb.ld, T(0), ci, ldc);
  }

  if (!direct) {
    View src = out;
    src.data = staged.data();
    src.strides[0] = m * n;
    src.strides[1] = n;
    src.strides[2] = 1;
    return copy(src, out);
  }
  return Status::Ok();
}

// Int32 has no BLAS: a plain loop, wrapping on overflow like PyTorch.
Status matmul_int32(const View& a, const View& b, const View& out) {
  const int64_t batch = out.shape[0], m = out.shape[1], n = out.shape[2], k = a.shape[2];
  const int32_t* pa = a.ptr<int32_t>();
  const int32_t* pb = b.ptr<int32_t>();
  int32_t* pc = out.ptr<int32_t>();
  for (int64_t bi = 0; bi < batch; ++bi) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        uint32_t acc = 0;
        for (int64_t p = 0; p < k; ++p) {
          acc += static_cast<uint32_t>(pa[bi * a.strides[0] + i * a.strides[1] + p * a.strides[2]]) *
                 static_cast<uint32_t>(pb[bi * b.strides[0] + p * b.strides[1] + j * b.strides[2]]);
        }
        pc[bi * out.strides[0] + i * out.strides[1] + j * out.strides[2]] = static_cast<int32_t>(acc);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status matmul(const View& a, const View& b, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("matmul", "a", a));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("matmul", "b", b));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("matmul", "output", out));
  if (a.ndim != 3 || b.ndim != 3 || out.ndim != 3) {
    return invalid("matmul: expected (B, M, K), (B, K, N) and (B, M, N) views");
  }
  if (a.shape[0] != out.shape[0] || b.shape[0] != out.shape[0] || a.shape[1] != out.shape[1] ||
      b.shape[2] != out.shape[2] || a.shape[2] != b.shape[1]) {
    return invalid("matmul: shapes do not match");
  }
  if (a.dtype != out.dtype || b.dtype != out.dtype) return invalid("matmul: dtypes differ");
  if (out.numel() == 0) return Status::Ok();
  if (a.shape[2] == 0) return fill(out, 0.0);  // empty inner dimension: a sum of nothing

  try {
    switch (out.dtype) {
      case DType::Float32: return matmul_float<float>(a, b, out);
      case DType::Float64: return matmul_float<double>(a, b, out);
      case DType::Int32: return matmul_int32(a, b, out);
    }
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::OutOfMemory, "matmul: out of memory for a temporary copy");
  }
  return detail::unsupported_dtype("matmul", out.dtype);
}

}  // namespace cpu
}  // namespace cudnn_rnn
