// The kernels compiled for one instruction set (see simd.h and binding.gyp for its flags).
#define ADVLAB_NEON 1
#define ADVLAB_NS advlab_neon
#define ADVLAB_TABLE advlab_table_neon
#define ADVLAB_ISA_NAME "neon"
#include "kernels_impl.h"
