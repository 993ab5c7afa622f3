// The prebuild's glibc floor: glibc 2.29 gave exp, log and pow new symbol versions (same results; only the old SVID
// error handling differs), so a binary built on glibc >= 2.29 needs 2.29 for them alone. Binding them to their
// original x86-64 versions (GLIBC_2.2.5) keeps the prebuild loadable on glibc 2.28 (RHEL 8, onnxruntime-node's own
// floor). Compiled in only for the prebuild, which links with -Wl,--wrap=exp,--wrap=log,--wrap=pow (CMakeLists.txt).
#if defined(CRAFT_GLIBC_COMPAT) && defined(__x86_64__)
extern "C" {
double craft_exp_2_2_5(double);
double craft_log_2_2_5(double);
double craft_pow_2_2_5(double, double);
__asm__(".symver craft_exp_2_2_5, exp@GLIBC_2.2.5");
__asm__(".symver craft_log_2_2_5, log@GLIBC_2.2.5");
__asm__(".symver craft_pow_2_2_5, pow@GLIBC_2.2.5");
double __wrap_exp(double x) { return craft_exp_2_2_5(x); }
double __wrap_log(double x) { return craft_log_2_2_5(x); }
double __wrap_pow(double x, double y) { return craft_pow_2_2_5(x, y); }
}
#endif
