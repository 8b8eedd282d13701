// Where things live in cuDNN's buffers: weight_layout (PyTorch's parameters
// located in the weight space with cudnnGetRNNWeightParams) and
// reserve_numel (the training forward's reserve space).
#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../rnn.h"
#include "cudnn_rnn_descriptors.h"
#include "cudnn_rnn_internal.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {
namespace detail {

namespace {

// Any dropout > 0 gives the descriptor cuDNN sizes a dropping reserve for.

Status surprise(const std::string& what) {
  return Status(StatusCode::Internal,
                "rnn (cuda): cuDNN's weight space is not laid out as PyTorch's parameters need: " + what);
}

// One matrix or bias vector as cudnnGetRNNWeightParams reports it.
struct Located {
  int64_t offset = 0;  // elements from the start of the weight space
  int64_t numel = 0;
  std::string dims;  // "[1, 30, 10]", for messages
};

Status read_numel(const Session& s, cudnn::TensorDescriptor desc, int64_t* numel, std::string* dims_text) {
  cudnn::DataType dt = 0;
  int nb = 0;
  int dims[8] = {0};
  int strides[8] = {0};
  CUDNN_RNN_RETURN_IF_ERROR(
      cudnn_check(s.api.cudnnGetTensorNdDescriptor(desc, 8, &dt, &nb, dims, strides), "cudnnGetTensorNdDescriptor"));
  *dims_text = "[";
  int64_t n = nb > 0 ? 1 : 0;
  for (int i = 0; i < std::min(nb, 8); ++i) {
    n *= dims[i] > 0 ? dims[i] : 0;
    *dims_text += (i ? ", " : "") + std::to_string(dims[i]);
  }
  *dims_text += "]";
  *numel = n;
  return Status::Ok();
}

Status locate(const Session& s, cudnn::TensorDescriptor desc, const void* addr, const void* base, size_t elem,
              int64_t total, const std::string& what, Located* out) {
  CUDNN_RNN_RETURN_IF_ERROR(read_numel(s, desc, &out->numel, &out->dims));
  const std::ptrdiff_t bytes = static_cast<const char*>(addr) - static_cast<const char*>(base);
  if (bytes < 0 || bytes % static_cast<std::ptrdiff_t>(elem) != 0)
    return surprise(what + " is at byte offset " + std::to_string(bytes) + ", not a whole element inside the space");
  out->offset = bytes / static_cast<std::ptrdiff_t>(elem);
  if (out->offset + out->numel > total)
    return surprise(what + " (" + std::to_string(out->numel) + " elements at " + std::to_string(out->offset) +
                    ") runs past the " + std::to_string(total) + "-element weight space");
  return Status::Ok();
}

// The (G*H, cols) matrices (or G*H biases) of one pseudo-layer half: gate
// blocks g = 0..G-1 at linLayerIDs first_id + g, each H*cols elements, must
// follow one another so that the whole is one PyTorch parameter.
struct Half {
  int64_t matrix_offset = -1;
  int64_t bias_offset = -1;
};

Status layout_impl(int device, const Config& cfg, std::vector<ParamSlot>* slots, int64_t* numel) {
  CUDNN_RNN_RETURN_IF_ERROR(check_config(cfg));
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  std::lock_guard<std::mutex> lock(ctx->handle_mu);
  Session s;
  CUDNN_RNN_RETURN_IF_ERROR(open_session(*ctx, &s));
  const cudnn::Api& a = s.api;

  Model model;
  CUDNN_RNN_RETURN_IF_ERROR(make_model(s, cfg, 0.0f, false, math_type(cfg), &model));
  size_t wbytes = 0;
  CUDNN_RNN_RETURN_IF_ERROR(
      cudnn_check(a.cudnnGetRNNWeightSpaceSize(s.handle, model.rnn.get(), &wbytes), "cudnnGetRNNWeightSpaceSize"));
  const size_t elem = dtype_size(cfg.dtype);
  if (wbytes % elem != 0) return surprise("its size, " + std::to_string(wbytes) + " bytes, is not whole elements");
  const int64_t total = static_cast<int64_t>(wbytes / elem);

  // cudnnGetRNNWeightParams only computes addresses inside the space it is
  // given, but give it a real one.
  DeviceBuffer space;
  CUDNN_RNN_RETURN_IF_ERROR(space.allocate(device, wbytes, false));
  TensorDesc mdesc, bdesc;
  CUDNN_RNN_RETURN_IF_ERROR(create(s, &mdesc));
  CUDNN_RNN_RETURN_IF_ERROR(create(s, &bdesc));

  const int64_t G = gate_count(cfg.mode), H = cfg.hidden_size, D = directions(cfg);
  const int64_t P = cfg.proj_size, R = ::cudnn_rnn::rnn::output_size(cfg);
  std::vector<ParamSlot> out;
  for (int64_t layer = 0; layer < cfg.num_layers; ++layer) {
    for (int64_t dir = 0; dir < D; ++dir) {
      // Bidirectional: pseudo-layer 2k is layer k's forward half, 2k+1 its
      // reverse half: PyTorch's _l{k}, _l{k}_reverse order.
      const int32_t pseudo = static_cast<int32_t>(layer * D + dir);
      const int64_t in_cols = layer == 0 ? cfg.input_size : D * R;
      Half halves[2];
      for (int half = 0; half < 2; ++half) {  // 0: input weights (ih), 1: recurrent (hh)
        const int64_t cols = half == 0 ? in_cols : R;
        for (int64_t g = 0; g < G; ++g) {
          const int32_t id = static_cast<int32_t>(half * G + g);
          const std::string where = "pseudo-layer " + std::to_string(pseudo) + " linLayerID " + std::to_string(id);
          void* maddr = nullptr;
          void* baddr = nullptr;
          cudnn::Status st = a.cudnnGetRNNWeightParams(s.handle, model.rnn.get(), pseudo, wbytes, space.get(), id,
                                                       mdesc.get(), &maddr, bdesc.get(), &baddr);
          if (st != cudnn::kSuccess && !cfg.bias) {
            // Without biases, ask for the matrix alone (NULL for the absent
            // bias pair, as PyTorch does since cuDNN 9.1).
            maddr = baddr = nullptr;
            st = a.cudnnGetRNNWeightParams(s.handle, model.rnn.get(), pseudo, wbytes, space.get(), id, mdesc.get(),
                                           &maddr, nullptr, nullptr);
          }
          CUDNN_RNN_RETURN_IF_ERROR(cudnn_check(st, "cudnnGetRNNWeightParams"));

          if (maddr == nullptr) return surprise(where + " has no weight matrix");
          Located m;
          CUDNN_RNN_RETURN_IF_ERROR(locate(s, mdesc.get(), maddr, space.get(), elem, total, where + " matrix", &m));
          if (m.numel != H * cols)
            return surprise(where + " matrix has dims " + m.dims + " (" + std::to_string(m.numel) +
                            " elements), expected " + std::to_string(H) + " x " + std::to_string(cols));
          if (g == 0) {
            halves[half].matrix_offset = m.offset;
          } else if (m.offset != halves[half].matrix_offset + g * H * cols) {
            return surprise(where + " matrix is at element " + std::to_string(m.offset) + ", expected " +
                            std::to_string(halves[half].matrix_offset + g * H * cols) +
                            " (the gate blocks must follow one another to form one (G*H, cols) matrix)");
          }

          if (cfg.bias) {
            if (baddr == nullptr) return surprise(where + " has no bias vector");
            Located b;
            CUDNN_RNN_RETURN_IF_ERROR(locate(s, bdesc.get(), baddr, space.get(), elem, total, where + " bias", &b));
            if (b.numel != H)
              return surprise(where + " bias has dims " + b.dims + " (" + std::to_string(b.numel) +
                              " elements), expected " + std::to_string(H));
            if (g == 0) {
              halves[half].bias_offset = b.offset;
            } else if (b.offset != halves[half].bias_offset + g * H) {
              return surprise(where + " bias is at element " + std::to_string(b.offset) + ", expected " +
                              std::to_string(halves[half].bias_offset + g * H) +
                              " (the gate blocks must follow one another to form one G*H vector)");
            }
          } else if (baddr != nullptr) {
            // NO_BIAS should report no bias (NULL); one with elements would be
            // read by cuDNN although PyTorch has no such parameter.
            int64_t n = 0;
            std::string dims;
            if (read_numel(s, bdesc.get(), &n, &dims).ok() && n > 0)
              return surprise(where + " has a bias vector " + dims + " although the net has no biases");
          }
        }
      }
      out.push_back({halves[0].matrix_offset, G * H, in_cols});  // weight_ih
      out.push_back({halves[1].matrix_offset, G * H, R});        // weight_hh
      if (cfg.bias) {
        out.push_back({halves[0].bias_offset, G * H, 0});  // bias_ih
        out.push_back({halves[1].bias_offset, G * H, 0});  // bias_hh
      }
      if (P > 0) {
        // The LSTM's projection W_hr (P, H): linLayerID 8, a matrix without
        // a bias (PyTorch's add_projection_weights).
        const std::string where = "pseudo-layer " + std::to_string(pseudo) + " linLayerID 8 (projection)";
        void* maddr = nullptr;
        void* baddr = nullptr;
        cudnn::Status st = a.cudnnGetRNNWeightParams(s.handle, model.rnn.get(), pseudo, wbytes, space.get(), 8,
                                                     mdesc.get(), &maddr, bdesc.get(), &baddr);
        if (st != cudnn::kSuccess) {
          maddr = nullptr;
          st = a.cudnnGetRNNWeightParams(s.handle, model.rnn.get(), pseudo, wbytes, space.get(), 8, mdesc.get(),
                                         &maddr, nullptr, nullptr);
        }
        CUDNN_RNN_RETURN_IF_ERROR(cudnn_check(st, "cudnnGetRNNWeightParams (projection)"));
        if (maddr == nullptr) return surprise(where + " has no weight matrix");
        Located m;
        CUDNN_RNN_RETURN_IF_ERROR(locate(s, mdesc.get(), maddr, space.get(), elem, total, where + " matrix", &m));
        if (m.numel != P * H)
          return surprise(where + " matrix has dims " + m.dims + " (" + std::to_string(m.numel) +
                          " elements), expected " + std::to_string(P) + " x " + std::to_string(H));
        out.push_back({m.offset, P, H});  // weight_hr
      }
    }
  }

  // No two parameters may share elements, and they plus cuDNN's padding
  // must make up the weight space exactly (the padding is zero: lib/ makes
  // the flat buffer zero-filled on every device, as PyTorch's at::zeros).
  int64_t gaps = 0;
  if (std::string why = policy::check_weight_cover(out, total, &gaps); !why.empty()) return surprise(why);
  *slots = std::move(out);
  *numel = total;
  return Status::Ok();
}

Status reserve_impl(int device, const Config& cfg, int64_t seq_len, int64_t batch, double dropout, int64_t* numel,
                    const int64_t* batch_sizes) {
  CUDNN_RNN_RETURN_IF_ERROR(check_shape(cfg, seq_len, batch));
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  if (batch == 0) {  // nothing to run, nothing to save (forward/backward never call cuDNN)
    *numel = 1;
    return Status::Ok();
  }
  std::lock_guard<std::mutex> lock(ctx->handle_mu);
  Session s;
  CUDNN_RNN_RETURN_IF_ERROR(open_session(*ctx, &s));
  size_t bytes = 0;
  CUDNN_RNN_RETURN_IF_ERROR(promised_reserve_bytes(s, cfg, seq_len, batch, dropout, &bytes, batch_sizes));
  const size_t elem = dtype_size(cfg.dtype);
  *numel = std::max<int64_t>(1, static_cast<int64_t>((bytes + elem - 1) / elem));
  return Status::Ok();
}

}  // namespace

Status weight_space_bytes(const Session& s, const Config& cfg, size_t* bytes) {
  Model model;
  CUDNN_RNN_RETURN_IF_ERROR(make_model(s, cfg, 0.0f, false, math_type(cfg), &model));
  return cudnn_check(s.api.cudnnGetRNNWeightSpaceSize(s.handle, model.rnn.get(), bytes),
                     "cudnnGetRNNWeightSpaceSize");
}

Status promised_reserve_bytes(const Session& s, const Config& cfg, int64_t seq_len, int64_t batch, double dropout,
                              size_t* bytes, const int64_t* batch_sizes) {
  // The very entry the training forward with this dropout will use.
  const Key key = make_key(s, cfg, seq_len, batch, effective_dropout(cfg, true, dropout), math_type(cfg),
                           /*training=*/true, batch_sizes);
  if (cached_reserve_bytes(key, bytes)) return Status::Ok();
  std::shared_ptr<Entry> e;
  CUDNN_RNN_RETURN_IF_ERROR(acquire_entry(s, key, &e));
  remember_reserve_bytes(key, e->reserve_bytes);
  *bytes = e->reserve_bytes;
  return Status::Ok();
}

}  // namespace detail

Status weight_layout(int device, const Config& cfg, std::vector<ParamSlot>* slots, int64_t* numel) {
  if (slots == nullptr || numel == nullptr) return Status(StatusCode::Internal, "rnn (cuda): weight_layout: null output");
  slots->clear();
  *numel = 0;
  return detail::guarded("weight_layout", [&] { return detail::layout_impl(device, cfg, slots, numel); });
}

Status reserve_numel(int device, const Config& cfg, int64_t seq_len, int64_t batch, double dropout, int64_t* numel,
                     const int64_t* batch_sizes) {
  if (numel == nullptr) return Status(StatusCode::Internal, "rnn (cuda): reserve_numel: null output");
  *numel = 0;
  return detail::guarded("reserve_numel",
                         [&] { return detail::reserve_impl(device, cfg, seq_len, batch, dropout, numel, batch_sizes); });
}

}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
