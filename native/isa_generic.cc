// The kernels compiled for one instruction set (see simd.h and binding.gyp for its flags).
#define ADVLAB_GENERIC 1
#define ADVLAB_NS advlab_generic
#define ADVLAB_TABLE advlab_table_generic
#define ADVLAB_ISA_NAME "generic"
#include "kernels_impl.h"
