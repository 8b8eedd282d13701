// MPI by dlopen. Open MPI's handles (MPI_Comm, MPI_Datatype, MPI_Op) are
// addresses of global objects exported by libmpi (ompi_mpi_comm_world,
// ompi_mpi_float, ompi_mpi_op_sum, ...); MPICH's (and its derivatives') are
// 32-bit integer constants (MPI_COMM_WORLD = 0x44000000, ...). Both are
// passed here as a pointer-sized argument: on x86-64 and AArch64 an int
// argument occupies the low half of the same register, so one function
// pointer type serves both ABIs.
#include "mpi.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace cudnn_rnn {
namespace dist {
namespace {

using Handle = void*;
using InitThreadFn = int (*)(int*, char***, int, int*);
using InitializedFn = int (*)(int*);
using FinalizedFn = int (*)(int*);
using CommRankFn = int (*)(Handle, int*);
using AllreduceFn = int (*)(const void*, void*, int, Handle, Handle, Handle);
using BcastFn = int (*)(void*, int, Handle, int, Handle);
using BarrierFn = int (*)(Handle);
using AbortFn = int (*)(Handle, int);
using FinalizeFn = int (*)();
using LibVersionFn = int (*)(char*, int*);
using ErrorStringFn = int (*)(int, char*, int*);

constexpr int kThreadMultiple = 3;   // MPI_THREAD_MULTIPLE in both ABIs
constexpr int kThreadSerialized = 2; // the least we need: one call at a time (we hold a mutex)
constexpr int kMaxCount = 0x7fffffff; // MPI counts are int

struct Mpi {
  bool tried = false;
  void* lib = nullptr;
  MpiInfo info;
  bool open_mpi = false;
  InitThreadFn init_thread = nullptr;
  InitializedFn initialized = nullptr;
  FinalizedFn finalized = nullptr;
  CommRankFn comm_rank = nullptr;
  CommRankFn comm_size = nullptr;
  AllreduceFn allreduce = nullptr;
  BcastFn bcast = nullptr;
  BarrierFn barrier = nullptr;
  AbortFn abort = nullptr;
  FinalizeFn finalize = nullptr;
  LibVersionFn lib_version = nullptr;
  ErrorStringFn error_string = nullptr;
  Handle comm_world = nullptr, t_float = nullptr, t_double = nullptr, t_int = nullptr, t_byte = nullptr;
  Handle op_sum = nullptr, op_max = nullptr;
  void* in_place = nullptr;
};

std::mutex g_mutex;  // guards loading and serializes every MPI call
Mpi g_mpi;

Handle Int(intptr_t v) { return reinterpret_cast<Handle>(v); }

// Finds the symbols; "" or what is missing.
std::string Bind(Mpi& m) {
  std::string missing;
  auto need = [&](const char* name) -> void* {
    void* p = dlsym(m.lib, name);
    if (!p) missing += (missing.empty() ? "" : ", ") + std::string(name);
    return p;
  };
  m.init_thread = reinterpret_cast<InitThreadFn>(need("MPI_Init_thread"));
  m.initialized = reinterpret_cast<InitializedFn>(need("MPI_Initialized"));
  m.finalized = reinterpret_cast<FinalizedFn>(need("MPI_Finalized"));
  m.comm_rank = reinterpret_cast<CommRankFn>(need("MPI_Comm_rank"));
  m.comm_size = reinterpret_cast<CommRankFn>(need("MPI_Comm_size"));
  m.allreduce = reinterpret_cast<AllreduceFn>(need("MPI_Allreduce"));
  m.bcast = reinterpret_cast<BcastFn>(need("MPI_Bcast"));
  m.barrier = reinterpret_cast<BarrierFn>(need("MPI_Barrier"));
  m.abort = reinterpret_cast<AbortFn>(need("MPI_Abort"));
  m.finalize = reinterpret_cast<FinalizeFn>(need("MPI_Finalize"));
  m.lib_version = reinterpret_cast<LibVersionFn>(need("MPI_Get_library_version"));
  m.error_string = reinterpret_cast<ErrorStringFn>(need("MPI_Error_string"));
  m.open_mpi = dlsym(m.lib, "ompi_mpi_comm_world") != nullptr;
  if (m.open_mpi) {
    m.comm_world = need("ompi_mpi_comm_world");
    m.t_float = need("ompi_mpi_float");
    m.t_double = need("ompi_mpi_double");
    m.t_int = need("ompi_mpi_int");
    m.t_byte = need("ompi_mpi_byte");
    m.op_sum = need("ompi_mpi_op_sum");
    m.op_max = need("ompi_mpi_op_max");
    m.in_place = Int(1);  // MPI_IN_PLACE ((void *) 1)
  } else {
    // mpi.h of MPICH (and Intel MPI, MVAPICH, Cray MPICH: the same ABI).
    m.comm_world = Int(0x44000000);
    m.t_float = Int(0x4c00040a);
    m.t_double = Int(0x4c00080b);
    m.t_int = Int(0x4c000405);
    m.t_byte = Int(0x4c00010d);
    m.op_sum = Int(0x58000003);
    m.op_max = Int(0x58000001);
    m.in_place = Int(-1);  // MPI_IN_PLACE ((void *) -1)
  }
  return missing.empty() ? "" : "missing symbol(s): " + missing;
}

// Loads the library once; the caller holds g_mutex.
Mpi& Load() {
  Mpi& m = g_mpi;
  if (m.tried) return m;
  m.tried = true;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("CUDNN_RNN_MPI_LIBRARY")) {
    if (*env) candidates.push_back(env);
  }
  if (candidates.empty()) candidates = {"libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so"};  // libmpich.so.12: Debian's MPICH
  std::string tried;
  for (const std::string& c : candidates) {
    // RTLD_GLOBAL: Open MPI's plugins (mca_*.so) resolve libmpi's and
    // libopen-pal's symbols from the global scope.
    void* lib = dlopen(c.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
      const char* e = dlerror();
      tried += "\n  " + c + ": " + (e ? e : "not found");
      continue;
    }
    m.lib = lib;
    std::string missing = Bind(m);
    if (!missing.empty()) {
      tried += "\n  " + c + ": " + missing;
      dlclose(lib);
      m.lib = nullptr;
      continue;
    }
    Dl_info dl{};
    m.info.path = dladdr(reinterpret_cast<void*>(m.init_thread), &dl) && dl.dli_fname ? dl.dli_fname : c;
    break;
  }
  if (!m.lib) {
    m.info.reason =
        "no MPI library could be opened (libmpi.so.40 from Open MPI, or libmpi.so.12 / libmpich.so.12 from MPICH; "
        "on Debian/Ubuntu: apt-get install openmpi-bin libopenmpi3; CUDNN_RNN_MPI_LIBRARY names another file):" + tried;
    return m;
  }
  m.info.loaded = true;
  m.info.flavor = m.open_mpi ? "Open MPI" : "MPICH";
  std::vector<char> buf(8192, 0);  // MPI_MAX_LIBRARY_VERSION_STRING: 256 (Open MPI), 8192 (MPICH)
  int len = 0;
  if (m.lib_version(buf.data(), &len) == 0) {
    std::string v(buf.data());
    size_t nl = v.find_first_of("\r\n");
    m.info.version = nl == std::string::npos ? v : v.substr(0, nl);
    // Open MPI: "Open MPI v4.1.4, package: Debian OpenMPI, ident: ..." -> "Open MPI v4.1.4".
    size_t comma = m.info.version.find(", ");
    if (m.open_mpi && comma != std::string::npos) m.info.version.resize(comma);
    // MPICH: "MPICH Version:\t4.0.2" -> "MPICH 4.0.2".
    const std::string mpich = "MPICH Version:";
    if (!m.open_mpi && m.info.version.compare(0, mpich.size(), mpich) == 0) {
      size_t at = m.info.version.find_first_not_of(" \t", mpich.size());
      m.info.version = "MPICH " + (at == std::string::npos ? std::string() : m.info.version.substr(at));
    }
    while (!m.info.version.empty() && (m.info.version.back() == ' ' || m.info.version.back() == ',')) m.info.version.pop_back();
  }
  return m;
}

Status Unavailable(const Mpi& m) { return Status(StatusCode::BackendUnavailable, "cudnn-rnn distributed: " + m.info.reason); }

Status Check(const Mpi& m, int rc, const char* what) {
  if (rc == 0) return Status::Ok();
  std::vector<char> buf(8192, 0);
  int len = 0;
  std::string text = m.error_string(rc, buf.data(), &len) == 0 ? std::string(buf.data()) : "error " + std::to_string(rc);
  return Status(StatusCode::BackendFailure, std::string("cudnn-rnn distributed: ") + what + " failed: " + text);
}

Status Ready(Mpi& m) {
  if (!m.info.loaded) return Unavailable(m);
  int flag = 0;
  m.initialized(&flag);
  if (!flag) return Status(StatusCode::InvalidArgument, "cudnn-rnn distributed: MPI is not initialized (call initProcessGroup first)");
  m.finalized(&flag);
  if (flag) return Status(StatusCode::InvalidArgument, "cudnn-rnn distributed: MPI was finalized");
  return Status::Ok();
}

Handle TypeOf(const Mpi& m, DType t) {
  switch (t) {
    case DType::Float32: return m.t_float;
    case DType::Float64: return m.t_double;
    case DType::Int32: return m.t_int;
  }
  return m.t_byte;
}

}  // namespace

MpiInfo mpi_info() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return Load().info;
}

Status mpi_init(int* rank, int* size) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Mpi& m = Load();
  if (!m.info.loaded) return Unavailable(m);
  int flag = 0;
  m.finalized(&flag);
  if (flag) return Status(StatusCode::InvalidArgument, "cudnn-rnn distributed: MPI was finalized in this process and cannot be initialized again");
  m.initialized(&flag);
  if (!flag) {
    int provided = 0;
    Status s = Check(m, m.init_thread(nullptr, nullptr, kThreadMultiple, &provided), "MPI_Init_thread");
    if (!s.ok()) return s;
    if (provided < kThreadSerialized) {
      return Status(StatusCode::BackendFailure,
                    "cudnn-rnn distributed: the MPI library provides thread level " + std::to_string(provided) +
                        "; at least MPI_THREAD_SERIALIZED (2) is needed for the async calls");
    }
  }
  Status s = Check(m, m.comm_rank(m.comm_world, rank), "MPI_Comm_rank");
  if (!s.ok()) return s;
  return Check(m, m.comm_size(m.comm_world, size), "MPI_Comm_size");
}

bool mpi_initialized() {
  std::lock_guard<std::mutex> lock(g_mutex);
  Mpi& m = Load();
  if (!m.info.loaded) return false;
  int init = 0, fin = 0;
  m.initialized(&init);
  m.finalized(&fin);
  return init && !fin;
}

Status mpi_allreduce(void* data, int64_t count, DType dtype, ReduceOp op) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Mpi& m = Load();
  Status s = Ready(m);
  if (!s.ok()) return s;
  Handle h_op = op == ReduceOp::Max ? m.op_max : m.op_sum;
  size_t item = dtype_size(dtype);
  // Counts above INT_MAX go in chunks (MPI's count is an int).
  for (int64_t done = 0; done < count;) {
    int n = static_cast<int>(std::min<int64_t>(count - done, kMaxCount));
    s = Check(m, m.allreduce(m.in_place, static_cast<char*>(data) + done * item, n, TypeOf(m, dtype), h_op, m.comm_world), "MPI_Allreduce");
    if (!s.ok()) return s;
    done += n;
  }
  return Status::Ok();
}

Status mpi_broadcast(void* data, int64_t count, DType dtype, int root) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Mpi& m = Load();
  Status s = Ready(m);
  if (!s.ok()) return s;
  size_t item = dtype_size(dtype);
  for (int64_t done = 0; done < count;) {
    int n = static_cast<int>(std::min<int64_t>(count - done, kMaxCount));
    s = Check(m, m.bcast(static_cast<char*>(data) + done * item, n, TypeOf(m, dtype), root, m.comm_world), "MPI_Bcast");
    if (!s.ok()) return s;
    done += n;
  }
  return Status::Ok();
}

Status mpi_broadcast_bytes(void* data, int64_t bytes, int root) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Mpi& m = Load();
  Status s = Ready(m);
  if (!s.ok()) return s;
  return Check(m, m.bcast(data, static_cast<int>(bytes), m.t_byte, root, m.comm_world), "MPI_Bcast");
}

Status mpi_barrier() {
  std::lock_guard<std::mutex> lock(g_mutex);
  Mpi& m = Load();
  Status s = Ready(m);
  if (!s.ok()) return s;
  return Check(m, m.barrier(m.comm_world), "MPI_Barrier");
}

void mpi_abort(int code) {
  // No lock: a collective may be blocked holding it, and abort must get through.
  Mpi& m = g_mpi;
  if (m.info.loaded && m.abort) m.abort(m.comm_world, code);
}

Status mpi_finalize() {
  std::lock_guard<std::mutex> lock(g_mutex);
  Mpi& m = Load();
  if (!m.info.loaded) return Status::Ok();
  int init = 0, fin = 0;
  m.initialized(&init);
  m.finalized(&fin);
  if (!init || fin) return Status::Ok();
  return Check(m, m.finalize(), "MPI_Finalize");
}

}  // namespace dist
}  // namespace cudnn_rnn
