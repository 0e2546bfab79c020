// Default sanitizer options, compiled into the test binary of a sanitizer build (so that ctest,
// gtest discovery and a plain run all use them). The suppression files name only libtorch and
// libgomp, which are not instrumented: see lsan.supp and tsan.supp beside this file.
extern "C" {
const char* __asan_default_options() { return "detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0"; }
const char* __lsan_default_options() { return "suppressions=" NNPLUG_SUPPRESSIONS "/lsan.supp:print_suppressions=0"; }
const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
const char* __tsan_default_options()
{
    return "suppressions=" NNPLUG_SUPPRESSIONS "/tsan.supp:halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0";
}
}
