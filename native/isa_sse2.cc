// The kernels compiled for one instruction set (see simd.h and binding.gyp for its flags).
#define ADVLAB_SSE2 1
#define ADVLAB_NS advlab_sse2
#define ADVLAB_TABLE advlab_table_sse2
#define ADVLAB_ISA_NAME "sse2"
#include "kernels_impl.h"
