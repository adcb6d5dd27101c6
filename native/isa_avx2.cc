// The kernels compiled for one instruction set (see simd.h and binding.gyp for its flags).
#define ADVLAB_AVX2 1
#define ADVLAB_NS advlab_avx2
#define ADVLAB_TABLE advlab_table_avx2
#define ADVLAB_ISA_NAME "avx2"
#include "kernels_impl.h"
