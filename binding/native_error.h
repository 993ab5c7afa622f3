// C++ exceptions -> (code, message) inside Execute(), and -> a JS Error with `.code` on the JS thread. Shared by every
// AsyncWorker of the addon so all native failures carry the same codes.
#pragma once

#include <napi.h>

#include <new>
#include <stdexcept>
#include <string>

#include <opencv2/core.hpp>

#include "craft/error.h"

namespace craft_napi {

struct NativeFailure {
  std::string code;
  std::string message;
};

// Runs `fn` and turns every C++ exception into a (code, message) pair; used inside Execute() only.
template <typename Fn>
bool Guard(NativeFailure& failure, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const craft::Error& e) {
    failure = {craft::ErrorCodeName(e.code()), e.what()};
  } catch (const cv::Exception& e) {
    failure = {"ERR_CRAFT_INTERNAL", std::string("OpenCV: ") + e.what()};
  } catch (const std::bad_alloc&) {
    failure = {"ERR_CRAFT_OUT_OF_MEMORY", "Out of memory"};
  } catch (const std::exception& e) {
    failure = {"ERR_CRAFT_INTERNAL", e.what()};
  } catch (...) {
    failure = {"ERR_CRAFT_INTERNAL", "Unknown native error"};
  }
  return false;
}

inline Napi::Error MakeError(Napi::Env env, const NativeFailure& failure) {
  Napi::Error error = Napi::Error::New(env, failure.message);
  error.Set("code", Napi::String::New(env, failure.code));
  return error;
}

}  // namespace craft_napi
