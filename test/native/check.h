// The native tests' one assertion: CHECK(cond, printf-style message) counts the check and, when cond is false, the
// failure, printing where and what; main() reports the counts and exits non-zero on any failure. One test per
// executable, so the counters live here.
#pragma once

#include <cstdio>

namespace {

int failures = 0;
int checks = 0;

}  // namespace

#define CHECK(cond, ...)                                            \
  do {                                                              \
    checks++;                                                       \
    if (!(cond)) {                                                  \
      failures++;                                                   \
      std::printf("  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::printf(__VA_ARGS__);                                     \
      std::printf("\n");                                            \
    }                                                               \
  } while (0)
