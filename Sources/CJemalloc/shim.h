// jemalloc, Debian's libjemalloc-dev: linked into Retrace's executables in place of glibc's malloc
// (Sources/RetraceAllocator says why).
#include <jemalloc/jemalloc.h>
