// See dynload.h. Libraries that are accepted stay open for the life of the
// process: CUDA libraries are not safe to unload once used (ONNX Runtime
// never unloads its CUDA provider for that reason).
#include "dynload.h"

#include <glob.h>
#include <link.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace cudnn_rnn {
namespace cuda {
namespace dynload {

void* open(const std::string& path, int flags, std::string& error) {
  dlerror();
  void* handle = dlopen(path.c_str(), flags);
  if (!handle) {
    const char* e = dlerror();
    error = e ? e : "dlopen failed";
  }
  return handle;
}

namespace {

void close_all(std::vector<void*>& handles) {
  for (auto it = handles.rbegin(); it != handles.rend(); ++it) dlclose(*it);
  handles.clear();
}

}  // namespace

Opened open_first(const std::vector<Candidate>& candidates, const Check& check,
                  std::vector<std::string>& tried) {
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    std::vector<void*> preloaded;
    std::string why;
    for (const Preload& p : c.preload) {
      std::string error;
      // RTLD_GLOBAL so the candidate's dlopen by soname is satisfied by it.
      void* h = open(p.path, RTLD_NOW | RTLD_GLOBAL, error);
      if (h) {
        preloaded.push_back(h);
      } else if (p.required) {
        why = "needs " + p.path + ": " + error;
        break;
      } else {
        tried.push_back(p.path + ": " + error + " (optional, not needed for RNNs; skipped)");
      }
    }
    void* handle = nullptr;
    bool was_loaded = false;
    if (why.empty()) {
      // A bare soname matches a library already in the process (an earlier
      // discovery, another addon) before the loader's path: say so.
      if (c.path.find('/') == std::string::npos) {
        if (void* h = dlopen(c.path.c_str(), RTLD_NOW | RTLD_NOLOAD)) {
          was_loaded = true;
          dlclose(h);
        }
      }
      std::string error;
      handle = open(c.path, RTLD_NOW | RTLD_LOCAL, error);
      if (!handle) why = error;
    }
    if (handle) {
      why = check(handle, c);
      if (why.empty()) return Opened{handle, i, loaded_file(handle), was_loaded, preloaded};
      dlclose(handle);
    }
    close_all(preloaded);
    // dlerror() already names the path; don't say it twice.
    tried.push_back(why.compare(0, c.path.size(), c.path) == 0 ? why : c.path + ": " + why);
  }
  return Opened{};
}

void close(Opened& opened) {
  if (opened.handle) dlclose(opened.handle);
  opened.handle = nullptr;
  close_all(opened.preloaded);
}

void* Symbols::find(const char* name) {
  dlerror();
  void* p = dlsym(handle_, name);
  return dlerror() ? nullptr : p;
}

std::string Symbols::missing() const {
  if (missing_.empty()) return "";
  std::string out = missing_.size() == 1 ? "missing symbol " : "missing symbols ";
  for (size_t i = 0; i < missing_.size(); ++i) out += (i ? ", " : "") + missing_[i];
  return out;
}

bool is_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string real_path(const std::string& path) {
  char buffer[PATH_MAX];
  return realpath(path.c_str(), buffer) ? std::string(buffer) : std::string();
}

std::string loaded_file(void* handle) {
  struct link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map || !map->l_name) return "";
  const std::string resolved = real_path(map->l_name);
  return resolved.empty() ? std::string(map->l_name) : resolved;
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string dir_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> glob_dirs(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g;
  if (glob(pattern.c_str(), GLOB_ONLYDIR, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i)
      if (is_dir(g.gl_pathv[i])) out.push_back(g.gl_pathv[i]);  // GLOB_ONLYDIR is only a hint
  }
  globfree(&g);
  // strverscmp orders "cuda-9.2" < "cuda-12.6" < "cuda-13.0", as a person would.
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return strverscmp(a.c_str(), b.c_str()) > 0; });
  return out;
}

std::vector<std::string> glob_files(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g;
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i)
      if (is_file(g.gl_pathv[i])) out.push_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dynload
}  // namespace cuda
}  // namespace cudnn_rnn
