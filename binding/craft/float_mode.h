// A thread's floating-point mode (MXCSR on x86: whether denormals are flushed to zero) for a scope. The one place
// craft-text touches it: the network runs (session.cc: the run's thread computes in ONNX Runtime's pool mode) and the
// recogniser's parallel-batch lanes (recognizer.cc: a helper thread computes in its caller's mode), so a number never
// depends on which thread computed it. A no-op on other architectures.
#pragma once

#if defined(__x86_64__) || defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace craft {

class FloatMode {
 public:
  // The calling thread's mode.
  static FloatMode Current() {
#if defined(__x86_64__) || defined(__SSE__)
    return FloatMode(_mm_getcsr());
#else
    return FloatMode(0);
#endif
  }
  // This mode with denormal results flushed to zero and denormal inputs read as zero: ONNX Runtime's intra-op pool
  // threads' mode with session.set_denormal_as_zero.
  FloatMode DenormalsAsZero() const { return FloatMode(csr_ | 0x8040u); }  // FTZ (bit 15) | DAZ (bit 6)

 private:
  explicit FloatMode(unsigned int csr) : csr_(csr) {}
  unsigned int csr_;
  friend class ScopedFloatMode;
};

// Sets `mode` on the calling thread for the scope and restores the thread's own on exit.
class ScopedFloatMode {
 public:
  explicit ScopedFloatMode(FloatMode mode) : saved_(FloatMode::Current()) { Set(mode); }
  ~ScopedFloatMode() { Set(saved_); }
  ScopedFloatMode(const ScopedFloatMode&) = delete;
  ScopedFloatMode& operator=(const ScopedFloatMode&) = delete;

 private:
  static void Set(FloatMode mode) {
#if defined(__x86_64__) || defined(__SSE__)
    _mm_setcsr(mode.csr_);
#else
    (void)mode;
#endif
  }
  FloatMode saved_;
};

}  // namespace craft
