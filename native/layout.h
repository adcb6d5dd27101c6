// The kernels' memory layouts and codes. These mirror lib/kernels/layout.ts (the one place
// they are declared for the TypeScript side and assembly/kernels.ts); native/check.ts asserts
// that every value here equals layout.ts's export of the same name.
#ifndef ADVLAB_NATIVE_LAYOUT_H
#define ADVLAB_NATIVE_LAYOUT_H

// interrupts
#define CANCEL_FLAG 65520

// network table
#define NET_LAYERS 0
#define NET_FIRST_LAYER 16
#define LAYER_BYTES 32
#define LAYER_ROWS 0
#define LAYER_COLS 4
#define LAYER_W 8
#define LAYER_B 12
#define LAYER_ACT 16
#define ACT_SIGMOID 0
#define ACT_RELU 1
#define ACT_IDENTITY 2

// loss block
#define LOSS_KIND 0
#define LOSS_KAPPA 4
#define LOSS_TARGETED 8
#define LOSS_BYTES 16
#define LOSS_QUADRATIC 0
#define LOSS_SOFTMAX_CE 1
#define LOSS_MARGIN 2
#define LOSS_COTANGENT 3

// descent program
#define PROG_X 0
#define PROG_LABELS 4
#define PROG_PRIOR 8
#define PROG_ORIGINS 12
#define PROG_STEPS_USED 16
#define PROG_STEPS 20
#define PROG_STEP_RULE 24
#define PROG_STEP_SIZE 28
#define PROG_LAM 32
#define PROG_BALL 36
#define PROG_EPS 40
#define PROG_CLIP 44
#define PROG_EARLY_STOP 48
#define PROG_THRESHOLDED 52
#define PROG_THRESHOLD 56
#define PROG_LOSS 64
#define PROG_START 80
#define PROG_START_STATE 84
#define PROG_START_EPS 88
#define PROG_BYTES 96
#define STEP_GRADIENT 0
#define STEP_SIGN 1
#define STEP_L2 2
#define START_GIVEN 0
#define START_UNIFORM_LINF 1
#define BALL_NONE 0
#define BALL_LINF 1
#define BALL_L2 2

// sgd context
#define SGD_IMAGES 0
#define SGD_LABELS 4
#define SGD_ORDER 8
#define SGD_N 12
#define SGD_BATCH 16
#define SGD_SPINS 20
#define SGD_ETA 24
#define SGD_BARRIER 28
#define SGD_ACTS 36
#define SGD_DELTAS 40
#define SGD_SCRATCH 44
#define SGD_SCRATCH_BYTES 48
#define SGD_LOSS 52
#define SGD_STOP 56
#define SGD_BYTES 64

#endif
