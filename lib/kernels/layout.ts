/**
 * The kernels' memory layouts, declared once: assembly/kernels.ts (AssemblyScript) and the
 * TypeScript side (lib/kernels/) both import this file, so it holds only integer constants.
 * Offsets are in bytes; "ptr" words are u32 byte offsets into the shared memory; f32 words
 * hold float32 bits; every block starts 16-byte aligned.
 *
 * Network table (at `net`): i32 layer count L at NET_LAYERS, then L entries of LAYER_BYTES
 * from NET_FIRST_LAYER; entry l describes layer l, which maps sizes[l] = cols numbers to
 * sizes[l+1] = rows numbers: W (rows x cols f32, row-major: row = unit fed) and b (rows f32).
 *
 * Interrupts: the i32 word at CANCEL_FLAG (below the arena's base of 65536 and above the
 * module's static data, which ends at byte 1,536 in both builds; test/backend.test.ts checks
 * the compiled modules) asks every long kernel to return early. The interrupt handler (Ctrl-C,
 * "Interrupt kernel") sets it to 1 with Atomics.store on an Int32Array over the kernels' memory; kernels only read it (between image
 * groups or attack steps in forward, gradient and descent; between mini-batches in sgd, where
 * both threads act on one reading, so neither is left waiting at a barrier). The backend
 * clears it (stores 0) when a computation begins and when it reports the interruption (it throws
 * InterruptedError, lib/util/work.ts), so a stale request never stops a later computation.
 * Any thread may set it (the main thread is blocked in Atomics.wait during a synchronous call;
 * util/work.ts's SIGINT watcher thread, or the event loop during an asynchronous call, is not):
 * `interruptWork()` does it.
 */

// ---------------------------------------------------------------- interrupts
export const CANCEL_FLAG = 65520;

// ---------------------------------------------------------------- network table
export const NET_LAYERS = 0;
export const NET_FIRST_LAYER = 16;
export const LAYER_BYTES = 32;
export const LAYER_ROWS = 0;
export const LAYER_COLS = 4;
export const LAYER_W = 8;
export const LAYER_B = 12;
export const LAYER_ACT = 16;

/** Activation codes (LAYER_ACT). */
export const ACT_SIGMOID = 0;
export const ACT_RELU = 1;
export const ACT_IDENTITY = 2;

// ---------------------------------------------------------------- loss configuration
/** A loss block: i32 kind, f32 kappa (margin), i32 targeted (0/1). */
export const LOSS_KIND = 0;
export const LOSS_KAPPA = 4;
export const LOSS_TARGETED = 8;
export const LOSS_BYTES = 16;

/** Loss codes (LOSS_KIND); COTANGENT: dL/da given per image by the caller (vjp). */
export const LOSS_QUADRATIC = 0;
export const LOSS_SOFTMAX_CE = 1;
export const LOSS_MARGIN = 2;
export const LOSS_COTANGENT = 3;

// ---------------------------------------------------------------- descent program
/** ptr: n x d images, the starts on entry, the results on return (updated in place). */
export const PROG_X = 0;
/** ptr: n u8 labels (true labels, or targets when targeted). */
export const PROG_LABELS = 4;
/** ptr: n x d prior targets, or 0 for no prior. */
export const PROG_PRIOR = 8;
/** ptr: n x d ball centres, or 0 when the ball is none. */
export const PROG_ORIGINS = 12;
/** ptr: n i32 steps used per image (written). */
export const PROG_STEPS_USED = 16;
export const PROG_STEPS = 20;
export const PROG_STEP_RULE = 24;
/** f32 */
export const PROG_STEP_SIZE = 28;
/** f32 */
export const PROG_LAM = 32;
export const PROG_BALL = 36;
/** f32 */
export const PROG_EPS = 40;
export const PROG_CLIP = 44;
export const PROG_EARLY_STOP = 48;
/** i32 0/1: the network sees each image binarised, x > PROG_THRESHOLD ? 1 : 0, and the gradient passes straight through (BPDA). */
export const PROG_THRESHOLDED = 52;
/** f32 */
export const PROG_THRESHOLD = 56;
/** The program's loss block (LOSS_BYTES); its `targeted` also sets the direction's sign. */
export const PROG_LOSS = 64;
/**
 * i32: where the images start. START_GIVEN: PROG_X holds the starts. START_UNIFORM_LINF: the kernel
 * draws them in place of image i's pixels, clip(origin + eps (2u - 1), 0, 1) with u the uniforms
 * i d, i d + 1, ... of the seeded LCG from PROG_START_STATE (lib/model/starts.ts), as JavaScript does.
 */
export const PROG_START = 80;
/** u32: the LCG state before the first uniform of image 0 of the program. */
export const PROG_START_STATE = 84;
/** f64: the ball's radius in double precision, as the JavaScript draw uses it. */
export const PROG_START_EPS = 88;
export const PROG_BYTES = 96;

/** Step rules (PROG_STEP_RULE). */
export const STEP_GRADIENT = 0;
export const STEP_SIGN = 1;
export const STEP_L2 = 2;

/** Starts (PROG_START). */
export const START_GIVEN = 0;
export const START_UNIFORM_LINF = 1;

/** Balls (PROG_BALL). */
export const BALL_NONE = 0;
export const BALL_LINF = 1;
export const BALL_L2 = 2;

// ---------------------------------------------------------------- sgd context
/** ptr: n x d f32 training images. */
export const SGD_IMAGES = 0;
/** ptr: n u8 labels. */
export const SGD_LABELS = 4;
/** ptr: n u32, the epoch's order (batch k = order[k B .. k B + B)). */
export const SGD_ORDER = 8;
export const SGD_N = 12;
export const SGD_BATCH = 16;
/** Barrier checks before a thread sleeps. */
export const SGD_SPINS = 20;
/** f32 eta. */
export const SGD_ETA = 24;
/** Barrier: i32 count, i32 generation. */
export const SGD_BARRIER = 28;
/** ptr: B x 2 x units f32 per layer (a, then what the backward pass needs). */
export const SGD_ACTS = 36;
/** ptr: B x units f32 per layer. */
export const SGD_DELTAS = 40;
/** ptr: per-thread scratch, SGD_SCRATCH_BYTES each. */
export const SGD_SCRATCH = 44;
export const SGD_SCRATCH_BYTES = 48;
/** Loss code at the output (quadratic or softmax cross-entropy). */
export const SGD_LOSS = 52;
/** The interrupt flag as thread 0 read it for the current mini-batch (shared by all threads). */
export const SGD_STOP = 56;
export const SGD_BYTES = 64;
