// One step of an RNN/GRU/LSTM cell on a GPU (cuda/cell.h).
//
// Forward: gi = x W_ih^T and gh = h W_hh^T through cuda::matmul (cuBLAS),
// then cell_forward_kernel adds both biases and applies the gates, one
// thread per (row, unit), with PyTorch's CPU cell maths (the CPU backend's,
// cpu/cell_step.cc):
//   RNN   h' = act((gh + b_hh) + (gi + b_ih))
//   GRU   r, z = σ(...), n = tanh((gi_n + b_in) + r (gh_n + b_hn)), h' = (h - n) z + n
//   LSTM  i, f, o = σ, g = tanh; c' = f c + i g; h' = o tanh(c')
// The training forward saves what the backward needs (cell_contract.h).
//
// Backward: cell_backward_kernel writes the gate gradients dGi (and dGh for
// GRU, whose n block differs), the direct GRU term dh' z and dc; then
//   dx = dGi W_ih, dhx = dGh W_hh (+ direct), dW_ih = dGi^T x,
//   dW_hh = dGh^T h (matmul), db = column sums of dGi / dGh (column_sum_kernel).
// Temporaries come from the stream-ordered caching allocator and are freed
// once the work that reads them is queued.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../cell.h"
#include "../kernels.h"
#include "../memory.h"
#include "context.h"

namespace cudnn_rnn {
namespace cuda {
namespace cell {

namespace {

using ::cudnn_rnn::cell::Config;
using ::cudnn_rnn::cell::gate_count;
using ::cudnn_rnn::cell::Mode;
using ::cudnn_rnn::cell::save_width;

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;

unsigned grid_for(int64_t n) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  if (blocks < 1) blocks = 1;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  return static_cast<unsigned>(blocks);
}

Status invalid(const std::string& what) { return Status(StatusCode::InvalidArgument, "cell (cuda): " + what); }

Status check_config(const Config& cfg, int64_t batch) {
  if (cfg.dtype != DType::Float32 && cfg.dtype != DType::Float64)
    return invalid(std::string("dtype must be float32 or float64, got ") + dtype_name(cfg.dtype));
  if (gate_count(cfg.mode) == 0) return invalid("unknown mode " + std::to_string(static_cast<int>(cfg.mode)));
  const int64_t limit = int64_t(1) << 31;
  if (batch < 0 || cfg.input_size < 0 || cfg.hidden_size < 0 || batch >= limit || cfg.input_size >= limit ||
      cfg.hidden_size >= limit) {
    return invalid("bad sizes: batch " + std::to_string(batch) + ", input_size " + std::to_string(cfg.input_size) +
                   ", hidden_size " + std::to_string(cfg.hidden_size));
  }
  return Status::Ok();
}

// A buffer may be null only when it holds no elements.
bool present(const void* p, int64_t numel) { return p != nullptr || numel == 0; }

// Device blocks returned to the pool when the call ends (after their last use is queued).
struct Temporaries {
  int device;
  std::vector<void*> blocks;
  explicit Temporaries(int d) : device(d) {}
  ~Temporaries() {
    for (void* p : blocks) device_free(device, p);
  }
  Status alloc(int64_t numel, DType dtype, void** out) {
    CUDNN_RNN_RETURN_IF_ERROR(device_alloc(device, static_cast<size_t>(numel) * dtype_size(dtype), false, out));
    blocks.push_back(*out);
    return Status::Ok();
  }
};

// A rows x cols matrix at p with strides (rs, cs), as matmul's (1, rows, cols) view.
View matrix(const void* p, DType dtype, int device, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  View v;
  v.data = const_cast<void*>(p);
  v.dtype = dtype;
  v.device.type = DeviceType::Cuda;
  v.device.index = device;
  v.ndim = 3;
  v.shape[0] = 1;
  v.shape[1] = rows;
  v.shape[2] = cols;
  v.strides[0] = rows * cols;
  v.strides[1] = rs;
  v.strides[2] = cs;
  return v;
}
View rows_of(const void* p, DType t, int device, int64_t rows, int64_t cols) {
  return matrix(p, t, device, rows, cols, cols, 1);
}
// The transpose of a row-major rows x cols matrix (a cols x rows view).
View transposed(const void* p, DType t, int device, int64_t rows, int64_t cols) {
  return matrix(p, t, device, cols, rows, 1, cols);
}

// ---- device maths, in the element type as PyTorch's CUDA kernels -------------

__device__ __forceinline__ float d_exp(float x) { return expf(x); }
__device__ __forceinline__ double d_exp(double x) { return exp(x); }
__device__ __forceinline__ float d_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double d_tanh(double x) { return tanh(x); }
template <typename T>
__device__ __forceinline__ T d_sigmoid(T x) {
  return T(1) / (T(1) + d_exp(-x));
}

template <typename T>
struct ForwardParams {
  int32_t mode;
  int64_t N, H;
  const T* gi;  // (N, G*H) x W_ih^T
  const T* gh;  // (N, G*H) h W_hh^T; null = zeros (no hx)
  const T* b_ih;  // null = no bias
  const T* b_hh;
  const T* hx;  // null = zeros
  const T* cx;  // LSTM; null = zeros
  T* hy;
  T* cy;
  T* save;  // null = inference
};

template <typename T>
__global__ void cell_forward_kernel(ForwardParams<T> p) {
  const int64_t H = p.H;
  const int64_t total = p.N * H;
  const int64_t G = p.mode == static_cast<int32_t>(Mode::Lstm) ? 4 : (p.mode == static_cast<int32_t>(Mode::Gru) ? 3 : 1);
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = e / H, j = e - row * H;
    const T* gi = p.gi + row * G * H;
    const T* gh = p.gh ? p.gh + row * G * H : nullptr;
    // Gate k's pre-activation halves, each with its bias: (gh + b_hh), (gi + b_ih).
    auto hpart = [&](int k) { return (gh ? gh[k * H + j] : T(0)) + (p.b_hh ? p.b_hh[k * H + j] : T(0)); };
    auto ipart = [&](int k) { return gi[k * H + j] + (p.b_ih ? p.b_ih[k * H + j] : T(0)); };
    const T h = p.hx ? p.hx[e] : T(0);
    if (G == 1) {
      const T v = hpart(0) + ipart(0);
      T out;
      if (p.mode == static_cast<int32_t>(Mode::RnnTanh)) out = d_tanh(v);
      else out = v < T(0) ? T(0) : v;  // keeps NaN, like torch.relu
      p.hy[e] = out;
      if (p.save) p.save[row * H + j] = out;
    } else if (G == 3) {
      const T r = d_sigmoid(hpart(0) + ipart(0));
      const T z = d_sigmoid(hpart(1) + ipart(1));
      const T hn = hpart(2);
      const T n = d_tanh(ipart(2) + r * hn);
      p.hy[e] = (h - n) * z + n;
      if (p.save) {
        T* sv = p.save + row * 4 * H;
        sv[j] = r;
        sv[H + j] = z;
        sv[2 * H + j] = n;
        sv[3 * H + j] = hn;
      }
    } else {
      const T i = d_sigmoid(hpart(0) + ipart(0));
      const T f = d_sigmoid(hpart(1) + ipart(1));
      const T g = d_tanh(hpart(2) + ipart(2));
      const T o = d_sigmoid(hpart(3) + ipart(3));
      const T c = p.cx ? p.cx[e] : T(0);
      const T cn = f * c + i * g;
      const T tc = d_tanh(cn);
      p.cy[e] = cn;
      p.hy[e] = o * tc;
      if (p.save) {
        T* sv = p.save + row * 5 * H;
        sv[j] = i;
        sv[H + j] = f;
        sv[2 * H + j] = g;
        sv[3 * H + j] = o;
        sv[4 * H + j] = tc;
      }
    }
  }
}

template <typename T>
struct BackwardParams {
  int32_t mode;
  int64_t N, H;
  const T* save;
  const T* hx;   // null = zeros
  const T* cx;   // null = zeros
  const T* dhy;  // null = zeros
  const T* dcy;  // null = zeros
  T* dgi;        // (N, G*H)
  T* dgh;        // (N, G*H), GRU only (else the same as dgi)
  T* direct;     // (N, H) GRU's dh' z, or null
  T* dcx;        // (N, H) LSTM, or null
};

template <typename T>
__global__ void cell_backward_kernel(BackwardParams<T> p) {
  const int64_t H = p.H;
  const int64_t total = p.N * H;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = e / H, j = e - row * H;
    const T d = p.dhy ? p.dhy[e] : T(0);
    if (p.mode == static_cast<int32_t>(Mode::RnnTanh) || p.mode == static_cast<int32_t>(Mode::RnnRelu)) {
      const T o = p.save[e];
      // relu: torch's threshold_backward on the output (0 where masked, even for NaN).
      p.dgi[e] = p.mode == static_cast<int32_t>(Mode::RnnTanh) ? d * (T(1) - o * o) : (o > T(0) ? d : T(0));
    } else if (p.mode == static_cast<int32_t>(Mode::Gru)) {
      const T* sv = p.save + row * 4 * H;
      const T r = sv[j], z = sv[H + j], n = sv[2 * H + j], hn = sv[3 * H + j];
      const T h = p.hx ? p.hx[e] : T(0);
      const T dn = d - d * z;
      const T dz = d * (h - n);
      if (p.direct) p.direct[e] = d * z;
      const T dan = dn * (T(1) - n * n);
      const T dar = dan * hn * (r * (T(1) - r));
      const T daz = dz * (z * (T(1) - z));
      T* gi = p.dgi + row * 3 * H;
      T* gh = p.dgh + row * 3 * H;
      gi[j] = dar;
      gh[j] = dar;
      gi[H + j] = daz;
      gh[H + j] = daz;
      gi[2 * H + j] = dan;
      gh[2 * H + j] = dan * r;
    } else {
      const T* sv = p.save + row * 5 * H;
      const T i = sv[j], f = sv[H + j], g = sv[2 * H + j], o = sv[3 * H + j], tc = sv[4 * H + j];
      const T c = p.cx ? p.cx[e] : T(0);
      const T dc = p.dcy ? p.dcy[e] : T(0);
      const T dct = dc + d * o * (T(1) - tc * tc);
      T* gi = p.dgi + row * 4 * H;
      gi[j] = dct * g * (i * (T(1) - i));
      gi[H + j] = dct * c * (f * (T(1) - f));
      gi[2 * H + j] = dct * i * (T(1) - g * g);
      gi[3 * H + j] = d * tc * (o * (T(1) - o));
      if (p.dcx) p.dcx[e] = dct * f;
    }
  }
}

// out[k] = Σ_rows m[row, k] for a (rows, cols) matrix, accumulated in double
// (one thread per column: consecutive threads read consecutive addresses).
template <typename T>
__global__ void column_sum_kernel(const T* m, int64_t rows, int64_t cols, T* out) {
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < cols;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double s = 0;
    for (int64_t r = 0; r < rows; ++r) s += static_cast<double>(m[r * cols + k]);
    out[k] = static_cast<T>(s);
  }
}

template <typename T>
Status launch_forward(DeviceContext* ctx, const ForwardParams<T>& p) {
  if (p.N * p.H == 0) return Status::Ok();
  cell_forward_kernel<T><<<grid_for(p.N * p.H), kThreads, 0, ctx->stream>>>(p);
  return check_launch("cell_forward");
}

template <typename T>
Status launch_backward(DeviceContext* ctx, const BackwardParams<T>& p) {
  if (p.N * p.H == 0) return Status::Ok();
  cell_backward_kernel<T><<<grid_for(p.N * p.H), kThreads, 0, ctx->stream>>>(p);
  return check_launch("cell_backward");
}

template <typename T>
Status launch_column_sum(DeviceContext* ctx, const void* m, int64_t rows, int64_t cols, void* out) {
  if (cols == 0) return Status::Ok();
  column_sum_kernel<T><<<grid_for(cols), kThreads, 0, ctx->stream>>>(static_cast<const T*>(m), rows, cols,
                                                                     static_cast<T*>(out));
  return check_launch("cell_column_sum");
}

template <typename T>
Status forward_impl(int device, DeviceContext* ctx, const ForwardArgs& a) {
  const Config& cfg = a.cfg;
  const DType t = cfg.dtype;
  const int64_t N = a.batch, I = cfg.input_size, H = cfg.hidden_size, GH = gate_count(cfg.mode) * H;
  Temporaries temps(device);
  void* gi = nullptr;
  void* gh = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(temps.alloc(N * GH, t, &gi));
  CUDNN_RNN_RETURN_IF_ERROR(matmul(rows_of(a.x, t, device, N, I), transposed(a.w_ih, t, device, GH, I),
                                   rows_of(gi, t, device, N, GH)));
  if (a.hx != nullptr) {
    CUDNN_RNN_RETURN_IF_ERROR(temps.alloc(N * GH, t, &gh));
    CUDNN_RNN_RETURN_IF_ERROR(matmul(rows_of(a.hx, t, device, N, H), transposed(a.w_hh, t, device, GH, H),
                                     rows_of(gh, t, device, N, GH)));
  }
  ForwardParams<T> p;
  p.mode = static_cast<int32_t>(cfg.mode);
  p.N = N;
  p.H = H;
  p.gi = static_cast<const T*>(gi);
  p.gh = static_cast<const T*>(gh);
  p.b_ih = cfg.bias ? static_cast<const T*>(a.b_ih) : nullptr;
  p.b_hh = cfg.bias ? static_cast<const T*>(a.b_hh) : nullptr;
  p.hx = static_cast<const T*>(a.hx);
  p.cx = static_cast<const T*>(a.cx);
  p.hy = static_cast<T*>(a.hy);
  p.cy = static_cast<T*>(a.cy);
  p.save = static_cast<T*>(a.save);
  return launch_forward<T>(ctx, p);
}

template <typename T>
Status backward_impl(int device, DeviceContext* ctx, const BackwardArgs& a) {
  const Config& cfg = a.cfg;
  const DType t = cfg.dtype;
  const int64_t N = a.batch, I = cfg.input_size, H = cfg.hidden_size, GH = gate_count(cfg.mode) * H;
  const bool gru = cfg.mode == Mode::Gru;
  Temporaries temps(device);
  void* dgi = nullptr;
  void* dgh = nullptr;
  void* direct = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(temps.alloc(N * GH, t, &dgi));
  if (gru) CUDNN_RNN_RETURN_IF_ERROR(temps.alloc(N * GH, t, &dgh));
  else dgh = dgi;  // RNN, LSTM: both products see the same gate gradient
  if (gru && a.dhx != nullptr) CUDNN_RNN_RETURN_IF_ERROR(temps.alloc(N * H, t, &direct));

  BackwardParams<T> p;
  p.mode = static_cast<int32_t>(cfg.mode);
  p.N = N;
  p.H = H;
  p.save = static_cast<const T*>(a.save);
  p.hx = static_cast<const T*>(a.hx);
  p.cx = static_cast<const T*>(a.cx);
  p.dhy = static_cast<const T*>(a.dhy);
  p.dcy = static_cast<const T*>(a.dcy);
  p.dgi = static_cast<T*>(dgi);
  p.dgh = static_cast<T*>(dgh);
  p.direct = static_cast<T*>(direct);
  p.dcx = cfg.mode == Mode::Lstm ? static_cast<T*>(a.dcx) : nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(launch_backward<T>(ctx, p));

  if (a.dx != nullptr) {
    CUDNN_RNN_RETURN_IF_ERROR(matmul(rows_of(dgi, t, device, N, GH), rows_of(a.w_ih, t, device, GH, I),
                                     rows_of(a.dx, t, device, N, I)));
  }
  if (a.dhx != nullptr) {
    const View dhx = rows_of(a.dhx, t, device, N, H);
    CUDNN_RNN_RETURN_IF_ERROR(matmul(rows_of(dgh, t, device, N, GH), rows_of(a.w_hh, t, device, GH, H), dhx));
    if (direct != nullptr) CUDNN_RNN_RETURN_IF_ERROR(axpy(dhx, 1.0, rows_of(direct, t, device, N, H), dhx));
  }
  if (a.dw_ih != nullptr) {
    CUDNN_RNN_RETURN_IF_ERROR(matmul(transposed(dgi, t, device, N, GH), rows_of(a.x, t, device, N, I),
                                     rows_of(a.dw_ih, t, device, GH, I)));
  }
  if (a.dw_hh != nullptr) {
    const View dw = rows_of(a.dw_hh, t, device, GH, H);
    if (a.hx != nullptr) {
      CUDNN_RNN_RETURN_IF_ERROR(matmul(transposed(dgh, t, device, N, GH), rows_of(a.hx, t, device, N, H), dw));
    } else if (GH * H > 0) {
      CUDNN_RNN_RETURN_IF_ERROR(cuda_status(
          cudaMemsetAsync(a.dw_hh, 0, static_cast<size_t>(GH * H) * dtype_size(t), ctx->stream), "cudaMemsetAsync"));
    }
  }
  if (a.db_ih != nullptr) CUDNN_RNN_RETURN_IF_ERROR(launch_column_sum<T>(ctx, dgi, N, GH, a.db_ih));
  if (a.db_hh != nullptr) CUDNN_RNN_RETURN_IF_ERROR(launch_column_sum<T>(ctx, dgh, N, GH, a.db_hh));
  return Status::Ok();
}

}  // namespace

Status forward(int device, const ForwardArgs& args) {
  const Config& cfg = args.cfg;
  CUDNN_RNN_RETURN_IF_ERROR(check_config(cfg, args.batch));
  const int64_t N = args.batch, I = cfg.input_size, H = cfg.hidden_size, GH = gate_count(cfg.mode) * H;
  if (!present(args.x, N * I) || !present(args.hy, N * H)) return invalid("x or hy is null");
  if (!present(args.w_ih, GH * I) || !present(args.w_hh, GH * H)) return invalid("a weight is null");
  if (cfg.bias && (!present(args.b_ih, GH) || !present(args.b_hh, GH))) return invalid("a bias is null");
  if (cfg.mode == Mode::Lstm && !present(args.cy, N * H)) return invalid("cy is null");
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  return args.cfg.dtype == DType::Float32 ? forward_impl<float>(device, ctx, args)
                                          : forward_impl<double>(device, ctx, args);
}

Status backward(int device, const BackwardArgs& args) {
  const Config& cfg = args.cfg;
  CUDNN_RNN_RETURN_IF_ERROR(check_config(cfg, args.batch));
  const int64_t N = args.batch, I = cfg.input_size, H = cfg.hidden_size, GH = gate_count(cfg.mode) * H;
  if (!present(args.save, N * save_width(cfg.mode, H)))
    return invalid("backward needs what the training-mode forward saved");
  if (!present(args.x, N * I)) return invalid("x is null");
  if (!present(args.w_ih, GH * I) || !present(args.w_hh, GH * H)) return invalid("a weight is null");
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  return args.cfg.dtype == DType::Float32 ? backward_impl<float>(device, ctx, args)
                                          : backward_impl<double>(device, ctx, args);
}

}  // namespace cell
}  // namespace cuda
}  // namespace cudnn_rnn
