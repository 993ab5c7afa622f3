// The prebuild's glibc floor: glibc 2.27 (expf, logf, powf, exp2f, log2f) and 2.29 (exp, log, pow) gave these
// functions new symbol versions (same results; only the old SVID error handling differs), so a binary built on a
// newer glibc needs 2.29 for them alone. Binding them to their original versions (the architecture's first glibc
// symbol version: GLIBC_2.2.5 on x86-64, GLIBC_2.17 on aarch64) keeps the
// prebuild loadable on older glibc (docs/install.md, "glibc floor"). Compiled in only for the prebuild, which links
// with -Wl,--wrap=<each of them> (CMakeLists.txt).
#if defined(CRAFT_GLIBC_COMPAT) && (defined(__x86_64__) || defined(__aarch64__))
#if defined(__x86_64__)
#define CRAFT_GLIBC_BASE "GLIBC_2.2.5"
#else
#define CRAFT_GLIBC_BASE "GLIBC_2.17"
#endif
#define CRAFT_OLD_VERSION(name, params, args)                  \
  double craft_old_##name params;                              \
  __asm__(".symver craft_old_" #name ", " #name "@" CRAFT_GLIBC_BASE); \
  double __wrap_##name params { return craft_old_##name args; }
#define CRAFT_OLD_VERSION_F(name, params, args)                \
  float craft_old_##name params;                               \
  __asm__(".symver craft_old_" #name ", " #name "@" CRAFT_GLIBC_BASE); \
  float __wrap_##name params { return craft_old_##name args; }
extern "C" {
CRAFT_OLD_VERSION(exp, (double x), (x))
CRAFT_OLD_VERSION(log, (double x), (x))
CRAFT_OLD_VERSION(pow, (double x, double y), (x, y))
CRAFT_OLD_VERSION_F(expf, (float x), (x))
CRAFT_OLD_VERSION_F(logf, (float x), (x))
CRAFT_OLD_VERSION_F(powf, (float x, float y), (x, y))
CRAFT_OLD_VERSION_F(exp2f, (float x), (x))
CRAFT_OLD_VERSION_F(log2f, (float x), (x))
}
#endif
