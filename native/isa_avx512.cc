// The kernels compiled for one instruction set (see simd.h and binding.gyp for its flags).
#define ADVLAB_AVX512 1
#define ADVLAB_NS advlab_avx512
#define ADVLAB_TABLE advlab_table_avx512
#define ADVLAB_ISA_NAME "avx512"
#include "kernels_impl.h"
