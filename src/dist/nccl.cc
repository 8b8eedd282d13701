// NCCL by dlopen, with its C API declared here (no NCCL or CUDA header).
#include "nccl.h"

#include <dlfcn.h>
#include <glob.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace cudnn_rnn {
namespace dist {
namespace {

using ncclResult_t = int;  // ncclSuccess = 0
using ncclComm_t = void*;
struct ncclUniqueId {
  char internal[kNcclUniqueIdBytes];
};
// nccl.h's ncclDataType_t and ncclRedOp_t values.
constexpr int kNcclInt32 = 2, kNcclFloat32 = 7, kNcclFloat64 = 8;
constexpr int kNcclSum = 0, kNcclMax = 2, kNcclAvg = 4;  // ncclAvg: NCCL >= 2.10

using GetVersionFn = ncclResult_t (*)(int*);
using GetUniqueIdFn = ncclResult_t (*)(ncclUniqueId*);
using CommInitRankFn = ncclResult_t (*)(ncclComm_t*, int, ncclUniqueId, int);
using AllReduceFn = ncclResult_t (*)(const void*, void*, size_t, int, int, ncclComm_t, void*);
using BroadcastFn = ncclResult_t (*)(const void*, void*, size_t, int, int, ncclComm_t, void*);
using CommDestroyFn = ncclResult_t (*)(ncclComm_t);
using ErrorStringFn = const char* (*)(ncclResult_t);

struct Nccl {
  bool tried = false;
  void* lib = nullptr;
  NcclInfo info;
  int version_code = 0;
  GetVersionFn get_version = nullptr;
  GetUniqueIdFn get_unique_id = nullptr;
  CommInitRankFn comm_init_rank = nullptr;
  AllReduceFn all_reduce = nullptr;
  BroadcastFn broadcast = nullptr;
  CommDestroyFn comm_destroy = nullptr;
  ErrorStringFn error_string = nullptr;
  ncclComm_t comm = nullptr;
};

std::mutex g_mutex;
Nccl g_nccl;

// libnccl.so.2 in pip wheels (nvidia-nccl-cu12: site-packages/nvidia/nccl/lib).
std::vector<std::string> WheelCandidates() {
  std::vector<std::string> out;
  std::vector<std::string> patterns;
  if (const char* venv = std::getenv("VIRTUAL_ENV")) patterns.push_back(std::string(venv) + "/lib/python3*/site-packages");
  if (const char* conda = std::getenv("CONDA_PREFIX")) patterns.push_back(std::string(conda) + "/lib/python3*/site-packages");
  if (const char* home = std::getenv("HOME")) patterns.push_back(std::string(home) + "/.local/lib/python3*/site-packages");
  for (const char* p : {"/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages", "/usr/lib/python3/dist-packages",
                        "/opt/conda/lib/python3*/site-packages"}) {
    patterns.push_back(p);
  }
  for (const std::string& p : patterns) {
    glob_t g{};
    if (glob((p + "/nvidia/nccl/lib/libnccl.so.2").c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
    }
    globfree(&g);
  }
  return out;
}

Nccl& Load() {
  Nccl& n = g_nccl;
  if (n.tried) return n;
  n.tried = true;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("CUDNN_RNN_NCCL_LIBRARY")) {
    if (*env) candidates.push_back(env);
  }
  if (candidates.empty()) {
    candidates.push_back("libnccl.so.2");
    for (const std::string& w : WheelCandidates()) candidates.push_back(w);
  }
  std::string tried;
  for (const std::string& c : candidates) {
    void* lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      tried += "\n  " + c + ": " + (e ? e : "not found");
      continue;
    }
    std::string missing;
    auto need = [&](const char* name) -> void* {
      void* p = dlsym(lib, name);
      if (!p) missing += (missing.empty() ? "" : ", ") + std::string(name);
      return p;
    };
    n.get_version = reinterpret_cast<GetVersionFn>(need("ncclGetVersion"));
    n.get_unique_id = reinterpret_cast<GetUniqueIdFn>(need("ncclGetUniqueId"));
    n.comm_init_rank = reinterpret_cast<CommInitRankFn>(need("ncclCommInitRank"));
    n.all_reduce = reinterpret_cast<AllReduceFn>(need("ncclAllReduce"));
    n.broadcast = reinterpret_cast<BroadcastFn>(need("ncclBroadcast"));
    n.comm_destroy = reinterpret_cast<CommDestroyFn>(need("ncclCommDestroy"));
    n.error_string = reinterpret_cast<ErrorStringFn>(need("ncclGetErrorString"));
    if (!missing.empty()) {
      tried += "\n  " + c + ": missing symbol(s): " + missing;
      dlclose(lib);
      continue;
    }
    n.lib = lib;
    Dl_info dl{};
    n.info.path = dladdr(reinterpret_cast<void*>(n.get_version), &dl) && dl.dli_fname ? dl.dli_fname : c;
    break;
  }
  if (!n.lib) {
    n.info.reason = "libnccl.so.2 could not be opened (install NCCL: apt-get install libnccl2, or pip install nvidia-nccl-cu12; "
                    "CUDNN_RNN_NCCL_LIBRARY names another file):" + tried;
    return n;
  }
  n.info.loaded = true;
  int code = 0;
  if (n.get_version(&code) == 0) {
    n.version_code = code;
    // NCCL_VERSION(X,Y,Z): X*1000+Y*100+Z up to 2.8, X*10000+Y*100+Z after.
    int major = code >= 10000 ? code / 10000 : code / 1000;
    int minor = code >= 10000 ? (code / 100) % 100 : (code / 100) % 10;
    int patch = code % 100;
    n.info.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  }
  return n;
}

Status Check(const Nccl& n, ncclResult_t rc, const char* what) {
  if (rc == 0) return Status::Ok();
  const char* text = n.error_string ? n.error_string(rc) : nullptr;
  return Status(StatusCode::BackendFailure, std::string("cudnn-rnn distributed: ") + what + " failed: " + (text ? text : "error " + std::to_string(rc)));
}

Status Ready(Nccl& n, bool need_comm) {
  if (!n.info.loaded) return Status(StatusCode::BackendUnavailable, "cudnn-rnn distributed: " + n.info.reason);
  if (need_comm && !n.comm) return Status(StatusCode::InvalidArgument, "cudnn-rnn distributed: no NCCL communicator (call initProcessGroup({ backend: 'nccl' }) first)");
  return Status::Ok();
}

int TypeOf(DType t) {
  switch (t) {
    case DType::Float32: return kNcclFloat32;
    case DType::Float64: return kNcclFloat64;
    case DType::Int32: return kNcclInt32;
  }
  return kNcclFloat32;
}

}  // namespace

NcclInfo nccl_info() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return Load().info;
}

Status nccl_unique_id(uint8_t out[kNcclUniqueIdBytes]) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Nccl& n = Load();
  Status s = Ready(n, false);
  if (!s.ok()) return s;
  ncclUniqueId id{};
  s = Check(n, n.get_unique_id(&id), "ncclGetUniqueId");
  if (s.ok()) std::memcpy(out, id.internal, kNcclUniqueIdBytes);
  return s;
}

Status nccl_init(int nranks, const uint8_t id[kNcclUniqueIdBytes], int rank, int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Nccl& n = Load();
  Status s = Ready(n, false);
  if (!s.ok()) return s;
  if (n.comm) return Status(StatusCode::InvalidArgument, "cudnn-rnn distributed: an NCCL communicator exists already");
  ncclUniqueId uid{};
  std::memcpy(uid.internal, id, kNcclUniqueIdBytes);
  (void)device;  // the binding made `device` current on this thread (ncclCommInitRank uses the current device)
  return Check(n, n.comm_init_rank(&n.comm, nranks, uid, rank), "ncclCommInitRank");
}

Status nccl_allreduce(void* data, int64_t count, DType dtype, NcclOp op, void* stream) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Nccl& n = Load();
  Status s = Ready(n, true);
  if (!s.ok()) return s;
  int nccl_op = op == NcclOp::Max ? kNcclMax : op == NcclOp::Avg ? kNcclAvg : kNcclSum;
  if (op == NcclOp::Avg && n.version_code > 0 && n.version_code < 21000) {
    return Status(StatusCode::InvalidArgument, "cudnn-rnn distributed: op 'avg' needs NCCL 2.10 or newer, this is " + n.info.version);
  }
  return Check(n, n.all_reduce(data, data, static_cast<size_t>(count), TypeOf(dtype), nccl_op, n.comm, stream), "ncclAllReduce");
}

Status nccl_broadcast(void* data, int64_t count, DType dtype, int root, void* stream) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Nccl& n = Load();
  Status s = Ready(n, true);
  if (!s.ok()) return s;
  return Check(n, n.broadcast(data, data, static_cast<size_t>(count), TypeOf(dtype), root, n.comm, stream), "ncclBroadcast");
}

Status nccl_destroy() {
  std::lock_guard<std::mutex> lock(g_mutex);
  Nccl& n = Load();
  if (!n.info.loaded || !n.comm) return Status::Ok();
  ncclComm_t comm = n.comm;
  n.comm = nullptr;
  return Check(n, n.comm_destroy(comm), "ncclCommDestroy");
}

}  // namespace dist
}  // namespace cudnn_rnn
