// The CPU BLAS, found at run time (DESIGN.md decisions 1 and 3). Nothing here
// links against a BLAS: the library is dlopen'ed, its few functions are
// declared below and looked up with dlsym, and when none is found the
// built-in GEMM (gemm_builtin.cc) runs instead.
//
// Two things matter for speed besides finding a library:
//  - OpenBLAS's kernel family. Debian's 0.3.21 (DYNAMIC_ARCH) does not know
//    recent CPUs and can fall back to old kernels (Prescott SSE3 on recent
//    Xeons: 5x slower than SkylakeX's). OPENBLAS_CORETYPE, read by OpenBLAS
//    while it loads, overrides the choice, so it is set from cpuid for the
//    dlopen unless the user set it.
//  - One thread pool sized to the cores this process may use, set through
//    the library's function (its environment variables are read only once,
//    at load).
#include "blas.h"

#include <dlfcn.h>
#include <sched.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CUDNN_RNN_BLAS_X86 1
#else
#define CUDNN_RNN_BLAS_X86 0
#endif

namespace cudnn_rnn {
namespace cpu {
namespace blas {
namespace {

// ---- The library's functions, declared here (CBLAS, LP64: int sizes) -------

enum { kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112 };
extern "C" {
typedef void (*SgemmFn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                        const float* a, int lda, const float* b, int ldb, float beta, float* c,
                        int ldc);
typedef void (*DgemmFn)(int order, int trans_a, int trans_b, int m, int n, int k, double alpha,
                        const double* a, int lda, const double* b, int ldb, double beta, double* c,
                        int ldc);
typedef const char* (*StringFn)();
typedef void (*SetIntFn)(int);
typedef int (*GetIntFn)();
typedef int (*MklSetLayerFn)(int);
typedef void (*MklVersionFn)(char* buffer, int len);
typedef void (*BliSetThreadsFn)(int64_t);  // dim_t; a 32-bit build reads the low half
typedef int64_t (*BliGetThreadsFn)();
}

// mkl_service.h values.
constexpr int kMklInterfaceLp64 = 0;
constexpr int kMklThreadingIntel = 0;
constexpr int kMklThreadingSequential = 1;

struct State {
  Info info;
  SgemmFn sgemm = nullptr;
  DgemmFn dgemm = nullptr;
};

State& state() {
  static State s;
  return s;
}

template <typename F>
F sym(void* handle, const char* name) {
  return reinterpret_cast<F>(dlsym(handle, name));
}

std::string dl_error() {
  const char* e = dlerror();
  return e ? e : "unknown error";
}

void add_line(std::string& lines, const std::string& line) {
  if (!lines.empty()) lines += '\n';
  lines += line;
}

const char* env(const char* name) {
  const char* v = getenv(name);
  return v && *v ? v : nullptr;
}

// ---- CPU and thread detection -------------------------------------------------

// The OpenBLAS kernel family for this CPU, or "" to let OpenBLAS decide. Only
// names that every OpenBLAS since 0.3.0 knows: 0.3.21 silently takes an
// unknown name as Cooperlake, which would crash a CPU without AVX-512.
// (0.3.21 also has "Cooperlake"; its sgemm/dgemm kernels are SkylakeX's, and
// it has no "SapphireRapids", so SkylakeX is the name for every AVX-512 CPU.)
const char* openblas_core_for_cpu() {
#if CUDNN_RNN_BLAS_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return "";
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!osxsave || !avx) return "";
  unsigned xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  // The OS must save the registers: XMM and YMM (bits 1-2), and for AVX-512
  // the opmask and both halves of ZMM (bits 5-7).
  const bool os_avx = (xcr0_lo & 0x6) == 0x6;
  const bool os_avx512 = (xcr0_lo & 0xe6) == 0xe6;
  if (!os_avx || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return "";
  const bool avx2 = b & (1u << 5);
  const bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) && (b & (1u << 31));
  if (os_avx512 && avx512 && avx2 && fma) return "SkylakeX";  // F, DQ, BW, VL
  if (avx2 && fma) return "Haswell";
#endif
  return "";
}

// How good an OpenBLAS core is for sgemm/dgemm on x86: Cooperlake and
// SapphireRapids run SkylakeX's sgemm/dgemm kernels, Zen runs Haswell's.
int core_rank(const std::string& core) {
  for (const char* name : {"SkylakeX", "Cooperlake", "SapphireRapids"})
    if (strcasecmp(core.c_str(), name) == 0) return 2;
  for (const char* name : {"Haswell", "Zen"})
    if (strcasecmp(core.c_str(), name) == 0) return 1;
  return 0;
}

// Parses a positive thread count; 0 when absent or malformed.
int parse_threads(const char* s) {
  if (!s) return 0;
  char* end = nullptr;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end != '\0' || v < 1 || v > 4096) return 0;
  return int(v);
}

// CPUs allowed by one cgroup quota file, 0 if absent or unlimited. v2's
// cpu.max holds "quota period" or "max period"; v1 splits them in two files.
double quota_cpus(const std::string& dir, bool v2) {
  double quota = -1, period = -1;
  if (v2) {
    if (FILE* f = fopen((dir + "/cpu.max").c_str(), "r")) {
      char q[32] = {0};
      if (fscanf(f, "%31s %lf", q, &period) == 2 && strcmp(q, "max") != 0) quota = atof(q);
      fclose(f);
    }
  } else {
    if (FILE* f = fopen((dir + "/cpu.cfs_quota_us").c_str(), "r")) {
      if (fscanf(f, "%lf", &quota) != 1) quota = -1;
      fclose(f);
    }
    if (FILE* f = fopen((dir + "/cpu.cfs_period_us").c_str(), "r")) {
      if (fscanf(f, "%lf", &period) != 1) period = -1;
      fclose(f);
    }
  }
  return quota > 0 && period > 0 ? quota / period : 0;
}

// CPUs a cgroup CPU quota allows this process (containers: docker --cpus 2),
// 0 if unlimited or unknown. The quota may sit on any ancestor cgroup; in a
// container the cgroup is often mounted as the root, so that is tried too.
int cgroup_cpu_limit() {
  std::string v2_path, v1_path;
  if (FILE* f = fopen("/proc/self/cgroup", "r")) {
    char line[4096];
    while (fgets(line, sizeof line, f)) {  // "id:controllers:path"
      std::string l(line);
      if (!l.empty() && l.back() == '\n') l.pop_back();
      const size_t c1 = l.find(':'), c2 = l.find(':', c1 + 1);
      if (c1 == std::string::npos || c2 == std::string::npos) continue;
      const std::string controllers = "," + l.substr(c1 + 1, c2 - c1 - 1) + ",";
      if (l.compare(0, c1, "0") == 0 && c2 == c1 + 1) v2_path = l.substr(c2 + 1);
      else if (controllers.find(",cpu,") != std::string::npos) v1_path = l.substr(c2 + 1);
    }
    fclose(f);
  }
  double cpus = 0;
  auto consider = [&](const std::string& dir, bool v2) {
    const double q = quota_cpus(dir, v2);
    if (q > 0 && (cpus == 0 || q < cpus)) cpus = q;
  };
  for (std::string p = v2_path; p.size() > 1; p.erase(p.rfind('/')))  // "/a/b", "/a"
    consider("/sys/fs/cgroup" + p, true);
  consider("/sys/fs/cgroup", true);
  for (const char* mount : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
    if (!v1_path.empty()) consider(mount + v1_path, false);
    consider(mount, false);
  }
  return cpus > 0 ? std::max(1, int(std::ceil(cpus))) : 0;
}

// Cores this process may actually run on: online cores, narrowed by the
// affinity mask (taskset, cpusets) and a cgroup CPU quota.
int usable_cores() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int in_mask = CPU_COUNT(&set);
    if (in_mask > 0) n = std::min<long>(n, in_mask);
  }
  const int quota = cgroup_cpu_limit();
  if (quota > 0) n = std::min<long>(n, quota);
  return int(n);
}

// ---- Identifying and configuring a loaded library -------------------------------

// "OpenBLAS 0.3.21 NO_LAPACKE ..." -> "0.3.21"; "... Version 2023.2.0 ..." -> "2023.2.0".
std::string word_after(const std::string& text, const std::string& key) {
  size_t at = text.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  size_t end = text.find(' ', at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The thread count to give the library: ours when set; else 0 (leave it)
// when the user configured the library through its own variables, which it
// has read at load; else the usable cores.
int threads_for(int requested, std::initializer_list<const char*> library_vars) {
  if (requested > 0) return requested;
  for (const char* name : library_vars)
    if (parse_threads(env(name))) return 0;
  return usable_cores();
}

void configure_openblas(void* h, Info& info, int requested, const char* core_we_set) {
  const int threads =
      threads_for(requested, {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"});
  info.vendor = "OpenBLAS";
  if (auto config = sym<StringFn>(h, "openblas_get_config")) {
    info.config = config() ? config() : "";
    info.version = word_after(info.config, "OpenBLAS ");
  }
  if (auto core = sym<StringFn>(h, "openblas_get_corename")) info.core = core() ? core() : "";
  if (auto set = sym<SetIntFn>(h, "openblas_set_num_threads"); set && threads > 0) set(threads);
  if (auto get = sym<GetIntFn>(h, "openblas_get_num_threads")) info.threads = get();
  // The core can only be chosen while the library loads: it did not take if
  // this process had OpenBLAS loaded already, or the build has one fixed core.
  if (*core_we_set && core_rank(info.core) < core_rank(core_we_set)) {
    const bool dynamic = info.config.find("DYNAMIC_ARCH") != std::string::npos;
    add_line(info.tried, std::string("OPENBLAS_CORETYPE=") + core_we_set +
                             ": not applied, OpenBLAS runs '" + info.core + "' (" +
                             (dynamic ? "it was already loaded in this process"
                                      : "built for one core, without DYNAMIC_ARCH") +
                             ")");
  }
}

// mkl_rt picks its integer width and threading layer at the first call.
// Pin LP64 (our prototypes use int) and avoid a fatal error at the first
// GEMM when the Intel OpenMP runtime is missing: use the sequential layer
// then, unless the user chose a layer.
void prepare_mkl(void* h) {
  if (auto set = sym<MklSetLayerFn>(h, "MKL_Set_Interface_Layer")) set(kMklInterfaceLp64);
  if (env("MKL_THREADING_LAYER")) return;
  auto set_threading = sym<MklSetLayerFn>(h, "MKL_Set_Threading_Layer");
  if (!set_threading) return;
  // mkl_rt looks for libiomp5 beside itself (pip's mkl) and on the search path.
  void* iomp = nullptr;
  Dl_info where;
  if (dladdr(reinterpret_cast<void*>(set_threading), &where) && where.dli_fname) {
    std::string dir = where.dli_fname;
    const size_t slash = dir.rfind('/');
    if (slash != std::string::npos)
      iomp = dlopen((dir.substr(0, slash + 1) + "libiomp5.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
  }
  if (!iomp) iomp = dlopen("libiomp5.so", RTLD_NOW | RTLD_GLOBAL);
  set_threading(iomp ? kMklThreadingIntel : kMklThreadingSequential);
}

void configure_mkl(void* h, Info& info, int requested) {
  const int threads = threads_for(requested, {"MKL_NUM_THREADS", "OMP_NUM_THREADS"});
  info.vendor = "MKL";
  if (auto version = sym<MklVersionFn>(h, "MKL_Get_Version_String")) {
    char buffer[256] = {0};
    version(buffer, sizeof buffer - 1);
    info.config = buffer;
    info.version = word_after(info.config, "Version ");
  }
  // The C entry points (mkl_set_num_threads is only a macro for it in
  // mkl_service.h; the exported mkl_set_num_threads_ is Fortran's and takes
  // a pointer).
  if (auto set = sym<SetIntFn>(h, "MKL_Set_Num_Threads"); set && threads > 0) set(threads);
  if (auto get = sym<GetIntFn>(h, "MKL_Get_Max_Threads")) info.threads = get();
}

void configure_blis(void* h, Info& info, int requested) {
  const int threads = threads_for(requested, {"BLIS_NUM_THREADS", "OMP_NUM_THREADS"});
  info.vendor = "BLIS";
  if (auto version = sym<StringFn>(h, "bli_info_get_version_str")) {
    info.version = version() ? version() : "";
    info.config = "BLIS " + info.version;
  }
  if (auto set = sym<BliSetThreadsFn>(h, "bli_thread_set_num_threads"); set && threads > 0)
    set(threads);
  if (auto get = sym<BliGetThreadsFn>(h, "bli_thread_get_num_threads")) {
    const int64_t n = get();
    if (n >= 1 && n <= 4096) info.threads = int(n);
  }
}

enum class Vendor { kUnknown, kOpenBlas, kMkl, kBlis, kAtlas };

// Which library this is, from the functions only it exports.
Vendor identify(void* h) {
  if (dlsym(h, "openblas_get_config")) return Vendor::kOpenBlas;
  if (dlsym(h, "MKL_Get_Version_String")) return Vendor::kMkl;
  if (dlsym(h, "bli_info_get_version_str")) return Vendor::kBlis;
  if (dlsym(h, "ATL_buildinfo")) return Vendor::kAtlas;
  return Vendor::kUnknown;
}

// Tries one candidate; on success fills the state and returns true, else
// adds "path: why" to tried. A generic libblas/libcblas of unknown origin is
// refused: the reference BLAS is slower than the built-in GEMM.
bool try_load(const std::string& path, bool generic, int requested, const char* core_we_set,
              State& s) {
  dlerror();
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    add_line(s.info.tried, path + ": " + dl_error());
    return false;
  }
  dlerror();
  auto sgemm = sym<SgemmFn>(h, "cblas_sgemm");
  auto dgemm = sgemm ? sym<DgemmFn>(h, "cblas_dgemm") : nullptr;
  if (!sgemm || !dgemm) {
    add_line(s.info.tried, path + ": " + dl_error());
    dlclose(h);
    return false;
  }
  const Vendor vendor = identify(h);
  if (generic && vendor == Vendor::kUnknown) {
    add_line(s.info.tried, path + ": not a known optimised BLAS (likely the reference BLAS, "
                                  "slower than the built-in GEMM)");
    dlclose(h);
    return false;
  }
  Info& info = s.info;
  info.path = path;
  info.threads = requested > 0 ? requested : 1;  // until the library says
  switch (vendor) {
    case Vendor::kOpenBlas: configure_openblas(h, info, requested, core_we_set); break;
    case Vendor::kMkl:
      prepare_mkl(h);
      configure_mkl(h, info, requested);
      break;
    case Vendor::kBlis: configure_blis(h, info, requested); break;
    case Vendor::kAtlas: info.vendor = "ATLAS"; break;  // threads fixed when it was built
    case Vendor::kUnknown: info.vendor = "CBLAS"; break;  // only from CUDNN_RNN_BLAS
  }
  s.sgemm = sgemm;
  s.dgemm = dgemm;
  return true;  // the handle stays open for the life of the process
}

// CUDNN_RNN_NUM_THREADS, or 0 when it is not set (or malformed: noted).
int requested_threads(Info& info) {
  const char* ours = env("CUDNN_RNN_NUM_THREADS");
  if (!ours) return 0;
  if (int n = parse_threads(ours)) return n;
  add_line(info.tried, std::string("CUDNN_RNN_NUM_THREADS=") + ours +
                           ": not a thread count from 1 to 4096, ignored");
  return 0;
}

void load(State& s) {
  Info& info = s.info;
  const char* choice = env("CUDNN_RNN_BLAS");
  if (choice && strcmp(choice, "none") == 0) {
    info.vendor = "builtin";
    info.reason = "CUDNN_RNN_BLAS=none";
    return;
  }
  const int threads = requested_threads(info);

  // Set the core only for the load, so child processes see the user's
  // environment unchanged. A core the user chose is kept, but noted when it
  // is not the one this CPU should run.
  const char* user_core = env("OPENBLAS_CORETYPE");
  const char* core = user_core ? "" : openblas_core_for_cpu();
  if (*core) setenv("OPENBLAS_CORETYPE", core, 1);

  static const char* const kOptimised[] = {
      "libopenblas.so.0",
      "libopenblas.so",
      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
      "libmkl_rt.so.2",
      "libmkl_rt.so",
      "libblis.so.4",
      "libblis.so.3",
      "libblis.so",
  };
  static const char* const kGeneric[] = {"libcblas.so.3", "libblas.so.3"};

  bool found = choice && try_load(choice, false, threads, core, s);
  for (const char* path : kOptimised)
    if (!found) found = try_load(path, false, threads, core, s);
  for (const char* path : kGeneric)
    if (!found) found = try_load(path, true, threads, core, s);

  if (*core) unsetenv("OPENBLAS_CORETYPE");
  const char* best = openblas_core_for_cpu();
  if (found && user_core && *best && info.vendor == "OpenBLAS" &&
      core_rank(info.core) < core_rank(best))
    add_line(info.tried, std::string("OPENBLAS_CORETYPE=") + user_core +
                             " from the environment kept; this CPU would run " + best +
                             " kernels");
  if (!found) {
    const std::string tried = info.tried;
    info = Info();
    info.vendor = "builtin";
    info.tried = tried;
    info.reason = "no CBLAS library found (OpenBLAS, MKL or BLIS); see tried";
  }
}

// ---- GEMM dispatch ---------------------------------------------------------------

bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

// CBLAS insists on ld >= columns even when only one row is stored and the
// leading dimension is never used; raise it then. Returns false when ld is
// too small for real (the caller's strides overlap): the built-in GEMM
// computes exactly what the strides say instead of the BLAS refusing.
bool blas_ld(int64_t rows, int64_t cols, int64_t& ld) {
  if (ld >= std::max<int64_t>(1, cols)) return true;
  if (rows > 1) return false;
  ld = std::max<int64_t>(1, cols);
  return true;
}

template <typename T, typename Fn>
void gemm_dispatch(Fn fn, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                   const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  // BLAS libraries differ on k == 0 and alpha == 0 (some still read A, B or
  // C); the built-in GEMM gives C = beta * C without reading them.
  if (fn && k > 0 && alpha != T(0)) {
    int64_t la = lda, lb = ldb, lc = ldc;
    const bool ok = blas_ld(trans_a ? k : m, trans_a ? m : k, la) &&
                    blas_ld(trans_b ? n : k, trans_b ? k : n, lb) && blas_ld(m, n, lc) &&
                    fits_int(m) && fits_int(n) && fits_int(k) && fits_int(la) && fits_int(lb) &&
                    fits_int(lc);
    if (ok) {
      fn(kCblasRowMajor, trans_a ? kCblasTrans : kCblasNoTrans,
         trans_b ? kCblasTrans : kCblasNoTrans, int(m), int(n), int(k), alpha, a, int(la), b,
         int(lb), beta, c, int(lc));
      return;
    }
  }
  builtin_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

std::once_flag g_once;

const State& loaded() {
  std::call_once(g_once, [] { load(state()); });
  return state();
}

}  // namespace

const Info& info() { return loaded().info; }

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  gemm_dispatch(loaded().sgemm, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc) {
  gemm_dispatch(loaded().dgemm, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace blas
}  // namespace cpu
}  // namespace cudnn_rnn
