#include "ort_api.h"

#include <dlfcn.h>

#include <mutex>

#include "error.h"
#include "file.h"
#include "ort.h"

namespace craft {

namespace {
std::mutex g_mutex;
OrtRuntimeInfo g_info;
bool g_loaded = false;
}  // namespace

const OrtRuntimeInfo& LoadOrtRuntime(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_loaded) {
    if (!path.empty() && path != g_info.path) {
      throw Error(ErrorCode::kOrtLoad, "ONNX Runtime is already loaded from '" + g_info.path +
                                           "'; a process can use only one (requested '" + path + "')");
    }
    return g_info;
  }
  if (path.empty()) throw Error(ErrorCode::kOrtLoad, "No ONNX Runtime library path given");
  // dlopen() open()s the file: a FIFO would block it forever. A bare name ("libonnxruntime.so.1") is searched for by
  // the dynamic linker and only checked for NUL bytes.
  CheckPath(path, ErrorCode::kOrtLoad, "ONNX Runtime library");
  if (path.find('/') != std::string::npos) RequireRegularFile(path, ErrorCode::kOrtLoad, "ONNX Runtime library");
  // RTLD_LOCAL keeps its symbols out of the global namespace, so another addon's ORT can't clash with ours.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw Error(ErrorCode::kOrtLoad,
                "Could not open ONNX Runtime library '" + path + "': " + (why != nullptr ? why : "unknown error"));
  }
  using GetApiBaseFn = const OrtApiBase* (*)();
  auto get_api_base = reinterpret_cast<GetApiBaseFn>(dlsym(handle, "OrtGetApiBase"));
  if (get_api_base == nullptr) {
    dlclose(handle);
    throw Error(ErrorCode::kOrtLoad, "'" + path + "' is not an ONNX Runtime library (no OrtGetApiBase)");
  }
  const OrtApiBase* base = get_api_base();
  const char* version = base->GetVersionString();
  // GetApi returns null when the library is older than the API version the headers describe.
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    // Keep the handle open: unloading ORT after its static initialisers ran is not safe.
    throw Error(ErrorCode::kOrtLoad, std::string("ONNX Runtime ") + (version ? version : "?") + " at '" + path +
                                         "' is too old: craft-text needs API version " +
                                         std::to_string(ORT_API_VERSION) + " (ONNX Runtime 1." +
                                         std::to_string(ORT_API_VERSION) + " or newer)");
  }
  Ort::InitApi(api);
  g_info.path = path;
  g_info.version = version != nullptr ? version : "";
  g_info.apiVersion = ORT_API_VERSION;
  g_loaded = true;
  return g_info;
}

bool OrtRuntimeLoaded() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_loaded;
}

}  // namespace craft
