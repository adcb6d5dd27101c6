// advlab_native: the kernels of assembly/kernels.ts as a Node-API module (N-API version 8, plain
// C API), over the same shared memory: every entry point takes `mem`, a Uint8Array over the
// whole SharedArrayBuffer of the kernels' WebAssembly.Memory, then the wasm export's arguments.
//
//   feedforwardRange(mem, net, images, i0, i1, out, scratch)
//   gradientRange(mem, net, loss, images, labels, cot, i0, i1, lossOut, gradOut, scratch)
//   descendRange(mem, net, prog, i0, i1, scratch)
//   sgdRange(mem, net, ctx, k0, k1, t, T)
//   groupScratchBytes(mem, net) -> bytes of per-thread scratch (descend, gradient, feedforward)
//   isa() -> "avx512" | "avx2" | "sse2" | "neon" | "generic"
//   normalPairs(out, start, pairs, state, mu, sigma) -> state: seeded normals (native/draws.h)
//     into a Float32Array or Float64Array of the caller's, not the kernels' memory
//
// Before computing, each entry point checks every region it will touch against mem's length
// (and 4-byte alignment of its numbers), every code and count, and throws an Error naming the
// kernel, the field and the value when one is wrong. The tables (network, program, sgd context)
// are read once here; the kernels get native pointers to checked regions only.
//
// The instruction set is chosen when the module loads: the best the processor has (x86-64:
// AVX-512 F+VL, else AVX2+FMA, else SSE2; ARM64: NEON), or ADVLAB_NATIVE_ISA=avx512|avx2|sse2
// (not above what the processor has).
#define NAPI_VERSION 8
#include <node_api.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <climits>

#include "draws.h"
#include "kernels.h"
#include "layout.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <sched.h>
#endif
#include <time.h>

#if defined(__x86_64__) || defined(_M_X64)
#define ADVLAB_X86 1
extern const KernelTable advlab_table_avx512, advlab_table_avx2, advlab_table_sse2;
#elif defined(__aarch64__)
#define ADVLAB_ARM64 1
extern const KernelTable advlab_table_neon;
#else
extern const KernelTable advlab_table_generic;
#endif

static const KernelTable* table = nullptr;

// ---------------------------------------------------------------- subnormal numbers

/**
 * While a kernel runs, float results below 1.2e-38 in magnitude become 0 and such inputs count
 * as 0 (x86 MXCSR FTZ and DAZ, ARM64 FPCR FZ); the thread's previous mode comes back after.
 * In sgd, a tiny delta times a tiny activation lands in that range, and each such operation
 * took a slow path in the processor: retraining on the article's augmented data ran at half
 * speed. The kernels already flush their own values below 1e-30; this covers the products.
 * Every thread sets the same mode, so results stay bit-identical for any thread count.
 */
class FlushSubnormals {
 public:
  FlushSubnormals() {
#if defined(ADVLAB_X86)
    saved_ = __builtin_ia32_stmxcsr();
    __builtin_ia32_ldmxcsr(saved_ | 0x8040u);  // FTZ (bit 15) and DAZ (bit 6)
#elif defined(ADVLAB_ARM64)
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(saved_));
    const uint64_t fz = saved_ | (1ull << 24);
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fz));
#endif
  }
  ~FlushSubnormals() {
#if defined(ADVLAB_X86)
    __builtin_ia32_ldmxcsr(saved_);
#elif defined(ADVLAB_ARM64)
    __asm__ __volatile__("msr fpcr, %0" : : "r"(saved_));
#endif
  }
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
#if defined(ADVLAB_X86)
  unsigned saved_ = 0;
#else
  uint64_t saved_ = 0;
#endif
};

/** Runs one kernel on its checked job with subnormal numbers flushed (every entry point comes here). */
template <class Job>
static void runFlushed(void (*kernel)(const Job*), const Job* job) {
  FlushSubnormals mode;
  kernel(job);
}

// ---------------------------------------------------------------- the sgd barrier

static void wakeAll(int32_t* word) {
#if defined(__linux__)
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
#else
  (void)word;
#endif
}

/** Sleeps while *word == value, at most about `ms` milliseconds (spurious returns are fine: the caller checks again). */
static void waitWhile(int32_t* word, int32_t value, long ms) {
#if defined(__linux__)
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, &ts, nullptr, 0);
#else
  // Elsewhere (macOS): give the processor away for a moment; the caller checks again.
  (void)ms;
  if (__atomic_load_n(word, __ATOMIC_SEQ_CST) == value) {
    sched_yield();
    struct timespec ts = {0, 50000};
    nanosleep(&ts, nullptr);
  }
#endif
}

static double seconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/**
 * All T threads meet here (bar: i32 count, i32 generation), as barrier() in assembly/kernels.ts:
 * spin, then sleep. Returns true when all met. One thing more than the wasm barrier: a thread
 * that has slept here for BROKEN_AFTER seconds and sees the interrupt word set returns false
 * (its sgdRange then returns at once). That only happens when a thread is gone (a worker
 * terminated during a job cannot stop a native call, so it never arrives): setting the interrupt
 * word then releases the threads left waiting, instead of leaving them blocked forever. In any
 * other interruption every thread arrives within microseconds and acts on thread 0's reading.
 */
static const double BROKEN_AFTER = 0.25;

static bool meet(int32_t* bar, int T, int spinLimit, const int32_t* cancel) {
  if (T <= 1) return true;
  int32_t* genAt = bar + 1;
  const int32_t gen = __atomic_load_n(genAt, __ATOMIC_SEQ_CST);
  if (__atomic_fetch_add(bar, 1, __ATOMIC_SEQ_CST) == T - 1) {
    __atomic_store_n(bar, 0, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(genAt, 1, __ATOMIC_SEQ_CST);
    wakeAll(genAt);
    return true;
  }
  int spins = 0;
  double asleep = -1;
  while (__atomic_load_n(genAt, __ATOMIC_SEQ_CST) == gen) {
    // SGD_SPINS counts checks, as the wasm barrier's loop does (no pause between them).
    if (++spins <= spinLimit) continue;
    if (asleep < 0) asleep = seconds();
    waitWhile(genAt, gen, 50);
    if (__atomic_load_n(genAt, __ATOMIC_SEQ_CST) != gen) break;
    if (__atomic_load_n(cancel, __ATOMIC_ACQUIRE) != 0 && seconds() - asleep >= BROKEN_AFTER) return false;
  }
  return true;
}

// ---------------------------------------------------------------- checking arguments

namespace {

struct Check {
  napi_env env;
  const char* kernel;
  uint8_t* base = nullptr;
  uint64_t len = 0;

  bool fail(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    char msg[512];
    int at = snprintf(msg, sizeof msg, "%s: ", kernel);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + at, sizeof msg - (size_t)at, fmt, ap);
    va_end(ap);
    napi_throw_error(env, nullptr, msg);
    return false;
  }

  /** [start, start + bytes) lies in memory and start is a multiple of align (nothing to check when bytes is 0). */
  bool region(const char* field, uint64_t start, uint64_t bytes, unsigned align) {
    if (bytes == 0) return true;
    if (start % align != 0) return fail("%s at %llu is not %u-byte aligned", field, (unsigned long long)start, align);
    if (bytes > len || start > len - bytes) {
      return fail("%s region [%llu, %llu) passes the end of memory (%llu bytes)", field, (unsigned long long)start,
                  (unsigned long long)(start + bytes), (unsigned long long)len);
    }
    return true;
  }

  int32_t i32(uint64_t at) const {
    int32_t v;
    memcpy(&v, base + at, 4);
    return v;
  }
  uint32_t u32(uint64_t at) const {
    uint32_t v;
    memcpy(&v, base + at, 4);
    return v;
  }
  float f32(uint64_t at) const {
    float v;
    memcpy(&v, base + at, 4);
    return v;
  }
  double f64(uint64_t at) const {
    double v;
    memcpy(&v, base + at, 8);
    return v;
  }
  float* fp(uint64_t at) const { return (float*)(base + at); }
  const int32_t* cancelWord() const { return (const int32_t*)(base + CANCEL_FLAG); }
};

const char* TYPE_NAMES[] = {"undefined", "null", "boolean", "number", "string", "symbol", "object", "function", "external", "bigint"};

/** The arguments: exactly `count`, the first a Uint8Array over the whole memory, the others integral numbers. */
bool getArgs(Check& c, napi_callback_info info, size_t count, const char* names, double* nums) {
  size_t argc = 12;
  napi_value argv[12];
  if (napi_get_cb_info(c.env, info, &argc, argv, nullptr, nullptr) != napi_ok) return c.fail("cannot read the arguments");
  if (argc != count) return c.fail("expected %zu arguments (%s), got %zu", count, names, argc);
  bool isTyped = false;
  napi_is_typedarray(c.env, argv[0], &isTyped);
  if (!isTyped) return c.fail("mem must be a Uint8Array over the kernels' memory");
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value buffer;
  if (napi_get_typedarray_info(c.env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok) {
    return c.fail("cannot read mem (napi_get_typedarray_info failed)");
  }
  if (type != napi_uint8_array) return c.fail("mem must be a Uint8Array, not another typed array");
  if (offset != 0) return c.fail("mem must start at byte 0 of its buffer (byteOffset is %zu)", offset);
  if (data == nullptr || length < CANCEL_FLAG + 4) {
    return c.fail("mem has %zu bytes, too few to hold the interrupt word at %d", length, CANCEL_FLAG);
  }
  c.base = (uint8_t*)data;
  c.len = length;
  for (size_t k = 1; k < count; k++) {
    // the k-th name of "mem, net, ...", for the messages
    const char* name = names;
    for (size_t j = 0; j < k && name; j++) {
      name = strchr(name, ',');
      if (name) name += 2;
    }
    const char* nameEnd = name ? strchr(name, ',') : nullptr;
    const int nameLen = name ? (nameEnd ? (int)(nameEnd - name) : (int)strlen(name)) : 0;
    napi_valuetype t;
    napi_typeof(c.env, argv[k], &t);
    if (t != napi_number) return c.fail("%.*s must be a number, not %s", nameLen, name, TYPE_NAMES[t]);
    double v;
    napi_get_value_double(c.env, argv[k], &v);
    if (!(v >= 0 && v <= 4294967295.0) || floor(v) != v) return c.fail("%.*s is %g, not an integer in [0, 2^32)", nameLen, name, v);
    nums[k] = v;
  }
  return true;
}

/** A count argument (i0, i1, k0, k1, t, T): below 2^31. */
bool count(Check& c, const char* name, double v, long* out) {
  if (v > 2147483647.0) return c.fail("%s is %.0f, above 2^31 - 1", name, v);
  *out = (long)v;
  return true;
}

/** Reads and checks the network table at `net`. */
bool readNet(Check& c, uint64_t net, NetDesc* d) {
  if (!c.region("network table", net, NET_FIRST_LAYER, 4)) return false;
  const int32_t L = c.i32(net + NET_LAYERS);
  if (L < 1 || L > ADVLAB_MAX_LAYERS) return c.fail("network table at %llu: layer count (NET_LAYERS) is %d, not 1..%d", (unsigned long long)net, L, ADVLAB_MAX_LAYERS);
  if (!c.region("network table", net, NET_FIRST_LAYER + (uint64_t)LAYER_BYTES * (uint64_t)L, 4)) return false;
  d->L = L;
  d->maxRows = 0;
  d->sumRows = 0;
  for (int l = 0; l < L; l++) {
    const uint64_t at = net + NET_FIRST_LAYER + (uint64_t)LAYER_BYTES * (uint64_t)l;
    const int32_t rows = c.i32(at + LAYER_ROWS), cols = c.i32(at + LAYER_COLS), act = c.i32(at + LAYER_ACT);
    const uint32_t W = c.u32(at + LAYER_W), b = c.u32(at + LAYER_B);
    if (rows < 1) return c.fail("layer %d LAYER_ROWS is %d, not >= 1", l, rows);
    if (cols < 1) return c.fail("layer %d LAYER_COLS is %d, not >= 1", l, cols);
    if (l > 0 && cols != d->layer[l - 1].rows) {
      return c.fail("layer %d LAYER_COLS is %d, not layer %d's LAYER_ROWS (%ld)", l, cols, l - 1, d->layer[l - 1].rows);
    }
    if (act != ACT_SIGMOID && act != ACT_RELU && act != ACT_IDENTITY) {
      return c.fail("layer %d LAYER_ACT is %d, not %d (sigmoid), %d (relu) or %d (identity)", l, act, ACT_SIGMOID, ACT_RELU, ACT_IDENTITY);
    }
    char field[64];
    snprintf(field, sizeof field, "layer %d LAYER_W", l);
    if (!c.region(field, W, 4 * (uint64_t)rows * (uint64_t)cols, 4)) return false;
    snprintf(field, sizeof field, "layer %d LAYER_B", l);
    if (!c.region(field, b, 4 * (uint64_t)rows, 4)) return false;
    LayerDesc& ly = d->layer[l];
    ly.rows = rows;
    ly.cols = cols;
    ly.act = act;
    ly.W = c.fp(W);
    ly.b = c.fp(b);
    if (rows > d->maxRows) d->maxRows = rows;
    d->sumRows += rows;
  }
  return true;
}

bool readLoss(Check& c, uint64_t at, const char* what, bool allowCotangent, LossDesc* loss) {
  if (!c.region(what, at, LOSS_BYTES, 4)) return false;
  loss->kind = c.i32(at + LOSS_KIND);
  loss->kappa = c.f32(at + LOSS_KAPPA);
  loss->targeted = c.i32(at + LOSS_TARGETED);
  const int k = loss->kind;
  if (!(k == LOSS_QUADRATIC || k == LOSS_SOFTMAX_CE || k == LOSS_MARGIN || (allowCotangent && k == LOSS_COTANGENT))) {
    return c.fail("%s LOSS_KIND is %d, not %d (quadratic), %d (softmax-ce), %d (margin)%s", what, k, LOSS_QUADRATIC, LOSS_SOFTMAX_CE, LOSS_MARGIN,
                  allowCotangent ? " or 3 (cotangent)" : "");
  }
  return true;
}

bool range(Check& c, const double* a, int at, long* i0, long* i1) {
  if (!count(c, "i0", a[at], i0) || !count(c, "i1", a[at + 1], i1)) return false;
  if (*i0 > *i1) return c.fail("i0 = %ld is above i1 = %ld", *i0, *i1);
  return true;
}

/** Rows [i0, i1) of `width` f32 each at p. */
bool rowsRegion(Check& c, const char* field, uint64_t p, long i0, long i1, uint64_t width, unsigned elem = 4) {
  return c.region(field, p + (uint64_t)i0 * width * elem, (uint64_t)(i1 - i0) * width * elem, elem == 1 ? 1 : 4);
}

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// ---------------------------------------------------------------- entry points

napi_value FeedforwardRange(napi_env env, napi_callback_info info) {
  Check c{env, "feedforwardRange"};
  double a[7] = {};
  if (!getArgs(c, info, 7, "mem, net, images, i0, i1, out, scratch", a)) return nullptr;
  NetDesc net;
  if (!readNet(c, (uint64_t)a[1], &net)) return nullptr;
  long i0 = 0, i1 = 0;
  if (!range(c, a, 3, &i0, &i1)) return nullptr;
  const uint64_t d = (uint64_t)net.layer[0].cols, classes = (uint64_t)net.layer[net.L - 1].rows;
  if (!rowsRegion(c, "images", (uint64_t)a[2], i0, i1, d)) return nullptr;
  if (!rowsRegion(c, "out", (uint64_t)a[5], i0, i1, classes)) return nullptr;
  const GroupLayout lay = advlabGroupLayout(&net);
  if (!c.region("scratch", (uint64_t)a[6], lay.forwardTotal, 4)) return nullptr;
  ForwardJob J;
  J.net = &net;
  J.images = c.fp((uint64_t)a[2]);
  J.i0 = i0;
  J.i1 = i1;
  J.out = c.fp((uint64_t)a[5]);
  J.scratch = c.base + (uint64_t)a[6];
  J.cancel = c.cancelWord();
  runFlushed(table->feedforward, &J);
  return undefinedValue(env);
}

napi_value GradientRange(napi_env env, napi_callback_info info) {
  Check c{env, "gradientRange"};
  double a[11] = {};
  if (!getArgs(c, info, 11, "mem, net, loss, images, labels, cot, i0, i1, lossOut, gradOut, scratch", a)) return nullptr;
  NetDesc net;
  if (!readNet(c, (uint64_t)a[1], &net)) return nullptr;
  GradientJob J;
  if (!readLoss(c, (uint64_t)a[2], "loss block", true, &J.loss)) return nullptr;
  long i0 = 0, i1 = 0;
  if (!range(c, a, 6, &i0, &i1)) return nullptr;
  const uint64_t d = (uint64_t)net.layer[0].cols, classes = (uint64_t)net.layer[net.L - 1].rows;
  const bool cot = J.loss.kind == LOSS_COTANGENT;
  if (!rowsRegion(c, "images", (uint64_t)a[3], i0, i1, d)) return nullptr;
  if (!cot && !rowsRegion(c, "labels", (uint64_t)a[4], i0, i1, 1, 1)) return nullptr;
  if (cot && !rowsRegion(c, "cot", (uint64_t)a[5], i0, i1, classes)) return nullptr;
  if (a[8] != 0 && !rowsRegion(c, "lossOut", (uint64_t)a[8], i0, i1, 1)) return nullptr;
  if (!rowsRegion(c, "gradOut", (uint64_t)a[9], i0, i1, d)) return nullptr;
  const GroupLayout lay = advlabGroupLayout(&net);
  if (!c.region("scratch", (uint64_t)a[10], lay.total, 4)) return nullptr;
  J.net = &net;
  J.images = c.fp((uint64_t)a[3]);
  J.labels = cot ? nullptr : c.base + (uint64_t)a[4];
  J.cot = cot ? c.fp((uint64_t)a[5]) : nullptr;
  J.i0 = i0;
  J.i1 = i1;
  J.lossOut = a[8] != 0 ? c.fp((uint64_t)a[8]) : nullptr;
  J.gradOut = c.fp((uint64_t)a[9]);
  J.scratch = c.base + (uint64_t)a[10];
  J.cancel = c.cancelWord();
  runFlushed(table->gradient, &J);
  return undefinedValue(env);
}

/** The seeded LCG's state k steps after `state` (lib/util/random.ts lcgJump). */
uint32_t lcgJump(uint32_t state, uint64_t k) {
  uint32_t mul = 0x19660d, add = 0x3c6ef35f, accMul = 1, accAdd = 0;
  for (; k > 0; k >>= 1) {
    if (k & 1) {
      accMul *= mul;
      accAdd = accAdd * mul + add;
    }
    add = (mul + 1) * add;
    mul *= mul;
  }
  return accMul * state + accAdd;
}

/** Images [i0, i1) of uniform L-inf starts into x: clip(origin + eps (2u - 1), 0, 1) in double, then float (lib/model/starts.ts). */
void drawUniformStarts(float* x, const float* origins, long d, long i0, long i1, uint32_t state0, double eps) {
  // The range's pixels are consecutive in the stream: one jump to its first, then step by step.
  uint32_t st = lcgJump(state0, (uint64_t)i0 * (uint64_t)d);
  for (long p = i0 * d; p < i1 * d; p++) {
    st = st * 0x19660du + 0x3c6ef35fu;
    const double v = (double)origins[p] + eps * (2.0 * ((double)st * (1.0 / 4294967296.0)) - 1.0);
    x[p] = (float)(v > 0 ? (v < 1 ? v : 1.0) : 0.0);
  }
}

napi_value DescendRange(napi_env env, napi_callback_info info) {
  Check c{env, "descendRange"};
  double a[6] = {};
  if (!getArgs(c, info, 6, "mem, net, prog, i0, i1, scratch", a)) return nullptr;
  NetDesc net;
  if (!readNet(c, (uint64_t)a[1], &net)) return nullptr;
  const uint64_t prog = (uint64_t)a[2];
  if (!c.region("program", prog, PROG_BYTES, 4)) return nullptr;
  DescentJob J;
  if (!readLoss(c, prog + PROG_LOSS, "program PROG_LOSS", false, &J.loss)) return nullptr;
  long i0 = 0, i1 = 0;
  if (!range(c, a, 3, &i0, &i1)) return nullptr;
  const uint64_t d = (uint64_t)net.layer[0].cols;
  const uint64_t x = c.u32(prog + PROG_X), labels = c.u32(prog + PROG_LABELS), prior = c.u32(prog + PROG_PRIOR);
  const uint64_t origins = c.u32(prog + PROG_ORIGINS), used = c.u32(prog + PROG_STEPS_USED);
  const int32_t steps = c.i32(prog + PROG_STEPS), rule = c.i32(prog + PROG_STEP_RULE), ball = c.i32(prog + PROG_BALL);
  if (steps < 0) return c.fail("PROG_STEPS is %d, not >= 0", steps), nullptr;
  if (rule != STEP_GRADIENT && rule != STEP_SIGN && rule != STEP_L2) {
    return c.fail("PROG_STEP_RULE is %d, not %d (gradient), %d (sign) or %d (l2)", rule, STEP_GRADIENT, STEP_SIGN, STEP_L2), nullptr;
  }
  if (ball != BALL_NONE && ball != BALL_LINF && ball != BALL_L2) {
    return c.fail("PROG_BALL is %d, not %d (none), %d (linf) or %d (l2)", ball, BALL_NONE, BALL_LINF, BALL_L2), nullptr;
  }
  if (ball != BALL_NONE && origins == 0) return c.fail("PROG_ORIGINS is 0 but PROG_BALL is %d (a ball needs its centres)", ball), nullptr;
  if (!rowsRegion(c, "PROG_X", x, i0, i1, d)) return nullptr;
  if (!rowsRegion(c, "PROG_LABELS", labels, i0, i1, 1, 1)) return nullptr;
  if (prior != 0 && !rowsRegion(c, "PROG_PRIOR", prior, i0, i1, d)) return nullptr;
  if (origins != 0 && !rowsRegion(c, "PROG_ORIGINS", origins, i0, i1, d)) return nullptr;
  if (used != 0 && !rowsRegion(c, "PROG_STEPS_USED", used, i0, i1, 1)) return nullptr;
  const GroupLayout lay = advlabGroupLayout(&net);
  if (!c.region("scratch", (uint64_t)a[5], lay.total, 4)) return nullptr;
  const int32_t start = c.i32(prog + PROG_START);
  if (start != START_GIVEN && start != START_UNIFORM_LINF) {
    return c.fail("PROG_START is %d, not %d (given) or %d (uniform in the L-inf ball)", start, START_GIVEN, START_UNIFORM_LINF), nullptr;
  }
  if (start == START_UNIFORM_LINF) {
    if (origins == 0) return c.fail("PROG_START is %d (uniform in the L-inf ball) but PROG_ORIGINS is 0", start), nullptr;
    const double eps = c.f64(prog + PROG_START_EPS);
    if (!(eps >= 0 && eps <= 1e300)) return c.fail("PROG_START_EPS is %g, not a finite number >= 0", eps), nullptr;
    // Before the kernel, in the thread's ordinary floating-point mode (no flushing): the numbers
    // are JavaScript's, bit for bit (lib/model/starts.ts).
    drawUniformStarts(c.fp(x), c.fp(origins), (long)d, i0, i1, c.u32(prog + PROG_START_STATE), eps);
  }
  J.net = &net;
  J.x = c.fp(x);
  J.labels = c.base + labels;
  J.prior = prior != 0 ? c.fp(prior) : nullptr;
  J.origins = origins != 0 ? c.fp(origins) : nullptr;
  J.used = used != 0 ? (int32_t*)(c.base + used) : nullptr;
  J.steps = steps;
  J.rule = rule;
  J.ball = ball;
  J.clip = c.i32(prog + PROG_CLIP) != 0;
  J.early = c.i32(prog + PROG_EARLY_STOP) != 0;
  J.eta = c.f32(prog + PROG_STEP_SIZE);
  J.lam = c.f32(prog + PROG_LAM);
  J.eps = c.f32(prog + PROG_EPS);
  J.thresholded = c.i32(prog + PROG_THRESHOLDED) != 0;
  J.threshold = c.f32(prog + PROG_THRESHOLD);
  J.i0 = i0;
  J.i1 = i1;
  J.scratch = c.base + (uint64_t)a[5];
  J.cancel = c.cancelWord();
  runFlushed(table->descend, &J);
  return undefinedValue(env);
}

napi_value SgdRange(napi_env env, napi_callback_info info) {
  Check c{env, "sgdRange"};
  double a[7] = {};
  if (!getArgs(c, info, 7, "mem, net, ctx, k0, k1, t, T", a)) return nullptr;
  NetDesc net;
  if (!readNet(c, (uint64_t)a[1], &net)) return nullptr;
  const uint64_t ctx = (uint64_t)a[2];
  if (!c.region("sgd context", ctx, SGD_BYTES, 4)) return nullptr;
  long k0 = 0, k1 = 0, t = 0, T = 1;
  if (!count(c, "k0", a[3], &k0) || !count(c, "k1", a[4], &k1) || !count(c, "t", a[5], &t) || !count(c, "T", a[6], &T)) return nullptr;
  if (k0 > k1) return c.fail("k0 = %ld is above k1 = %ld", k0, k1), nullptr;
  if (T < 1 || t >= T) return c.fail("thread t = %ld of T = %ld is not 0 <= t < T", t, T), nullptr;
  const int32_t n = c.i32(ctx + SGD_N), B = c.i32(ctx + SGD_BATCH), loss = c.i32(ctx + SGD_LOSS);
  if (n < 0) return c.fail("SGD_N is %d, not >= 0", n), nullptr;
  if (B < 1) return c.fail("SGD_BATCH is %d, not >= 1", B), nullptr;
  if (loss != LOSS_QUADRATIC && loss != LOSS_SOFTMAX_CE) {
    return c.fail("SGD_LOSS is %d, not %d (quadratic) or %d (softmax-ce)", loss, LOSS_QUADRATIC, LOSS_SOFTMAX_CE), nullptr;
  }
  if (k1 > k0 && (uint64_t)(k1 - 1) * (uint64_t)B >= (uint64_t)n) {
    return c.fail("batches [%ld, %ld) of SGD_BATCH = %d pass SGD_N = %d examples", k0, k1, B, n), nullptr;
  }
  const uint64_t d = (uint64_t)net.layer[0].cols;
  const uint64_t images = c.u32(ctx + SGD_IMAGES), labels = c.u32(ctx + SGD_LABELS), order = c.u32(ctx + SGD_ORDER);
  const uint64_t acts = c.u32(ctx + SGD_ACTS), deltas = c.u32(ctx + SGD_DELTAS);
  const uint64_t scratch = c.u32(ctx + SGD_SCRATCH), scratchBytes = c.u32(ctx + SGD_SCRATCH_BYTES);
  if (!c.region("SGD_IMAGES", images, (uint64_t)n * d * 4, 4)) return nullptr;
  if (!c.region("SGD_LABELS", labels, (uint64_t)n, 1)) return nullptr;
  const uint64_t e0 = (uint64_t)k0 * (uint64_t)B, e1 = k1 > k0 ? ((uint64_t)k1 * (uint64_t)B < (uint64_t)n ? (uint64_t)k1 * (uint64_t)B : (uint64_t)n) : e0;
  if (!c.region("SGD_ORDER", order + 4 * e0, 4 * (e1 - e0), 4)) return nullptr;
  for (uint64_t e = e0; e < e1; e++) {
    const uint32_t j = c.u32(order + 4 * e);
    if (j >= (uint32_t)n) return c.fail("SGD_ORDER entry %llu is %u, not below SGD_N = %d", (unsigned long long)e, j, n), nullptr;
  }
  if (!c.region("SGD_ACTS", acts, 8 * (uint64_t)B * (uint64_t)net.sumRows, 4)) return nullptr;
  if (!c.region("SGD_DELTAS", deltas, 4 * (uint64_t)B * (uint64_t)net.sumRows, 4)) return nullptr;
  if (scratchBytes < (uint64_t)B) return c.fail("SGD_SCRATCH_BYTES is %llu, below the %d bytes a thread needs", (unsigned long long)scratchBytes, B), nullptr;
  // Every thread's scratch, checked by every thread: all pass or all fail, so none waits alone.
  if (!c.region("SGD_SCRATCH (all T threads)", scratch, scratchBytes * (uint64_t)T, 1)) return nullptr;
  const uint64_t workBytes = advlabSgdWorkBytes(&net, (uint64_t)B);
  void* work = malloc(workBytes);
  if (!work) return c.fail("cannot allocate %llu bytes of working memory", (unsigned long long)workBytes), nullptr;
  SgdJob J;
  J.net = &net;
  J.images = c.fp(images);
  J.labels = c.base + labels;
  J.order = (const uint32_t*)(c.base + order);
  J.n = n;
  J.B = B;
  J.spins = c.i32(ctx + SGD_SPINS);
  J.eta = c.f32(ctx + SGD_ETA);
  J.barrier = (int32_t*)(c.base + ctx + SGD_BARRIER);
  J.stop = (int32_t*)(c.base + ctx + SGD_STOP);
  J.acts = c.fp(acts);
  J.deltas = c.fp(deltas);
  J.scratch = c.base + scratch + (uint64_t)t * scratchBytes;
  J.loss = loss;
  J.k0 = k0;
  J.k1 = k1;
  J.t = (int)t;
  J.T = (int)T;
  J.cancel = c.cancelWord();
  J.meet = meet;
  J.work = work;
  runFlushed(table->sgd, &J);
  free(work);
  return undefinedValue(env);
}

napi_value GroupScratchBytes(napi_env env, napi_callback_info info) {
  Check c{env, "groupScratchBytes"};
  double a[2] = {};
  if (!getArgs(c, info, 2, "mem, net", a)) return nullptr;
  NetDesc net;
  if (!readNet(c, (uint64_t)a[1], &net)) return nullptr;
  const GroupLayout lay = advlabGroupLayout(&net);
  napi_value r;
  napi_create_double(env, (double)lay.total, &r);
  return r;
}

napi_value Isa(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, nullptr, nullptr, nullptr);
  if (argc != 0) {
    napi_throw_error(env, nullptr, "isa: expected no arguments");
    return nullptr;
  }
  napi_value r;
  napi_create_string_utf8(env, table->isa, NAPI_AUTO_LENGTH, &r);
  return r;
}

/** normalPairs(out, start, pairs, state, mu, sigma): 2 * pairs normals into out[start...]; returns the LCG state after them (int32). */
napi_value NormalPairs(napi_env env, napi_callback_info info) {
  Check c{env, "normalPairs"};
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return c.fail("cannot read the arguments"), nullptr;
  if (argc != 6) return c.fail("expected 6 arguments (out, start, pairs, state, mu, sigma), got %zu", argc), nullptr;
  bool isTyped = false;
  napi_is_typedarray(env, argv[0], &isTyped);
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value buffer;
  if (!isTyped || napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok ||
      (type != napi_float32_array && type != napi_float64_array)) {
    return c.fail("out must be a Float32Array or a Float64Array"), nullptr;
  }
  double a[5];
  const char* names[5] = {"start", "pairs", "state", "mu", "sigma"};
  for (int k = 0; k < 5; k++) {
    if (napi_get_value_double(env, argv[k + 1], &a[k]) != napi_ok) return c.fail("%s must be a number", names[k]), nullptr;
  }
  for (int k = 0; k < 2; k++) {
    if (!(a[k] >= 0 && a[k] <= 9007199254740991.0 && a[k] == floor(a[k]))) return c.fail("%s must be a whole number >= 0, got %g", names[k], a[k]), nullptr;
  }
  if (a[0] + 2 * a[1] > (double)length) {
    return c.fail("%.0f numbers from %.0f pass the end of out (%zu numbers)", 2 * a[1], a[0], length), nullptr;
  }
  if (!(a[2] >= -2147483648.0 && a[2] <= 4294967295.0 && a[2] == floor(a[2]))) return c.fail("state must be a 32-bit whole number, got %g", a[2]), nullptr;
  // mu and sigma may be anything, NaN and infinities included: the numbers are then JavaScript's too.
  const uint32_t state = (uint32_t)(int64_t)a[2];
  const long start = (long)a[0], pairs = (long)a[1];
  float* out32 = type == napi_float32_array ? (float*)data + start : nullptr;
  double* out64 = type == napi_float64_array ? (double*)data + start : nullptr;
#if defined(ADVLAB_X86)
  const bool wide = table == &advlab_table_avx512;
#else
  const bool wide = false;
#endif
  const uint32_t after = wide ? advlabNormalPairsAvx512(state, pairs, a[3], a[4], out32, out64)
                              : advlabNormalPairs(state, pairs, a[3], a[4], out32, out64);
  napi_value r;
  napi_create_int32(env, (int32_t)after, &r);
  return r;
}

/** The kernels for this processor, or null with the reason in `why`. */
const KernelTable* chooseIsa(char* why, size_t whyBytes) {
  const char* asked = getenv("ADVLAB_NATIVE_ISA");
  if (asked != nullptr && asked[0] == '\0') asked = nullptr;
#if defined(ADVLAB_X86)
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  const bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const KernelTable* best = has512 ? &advlab_table_avx512 : has2 ? &advlab_table_avx2 : &advlab_table_sse2;
  if (!asked) return best;
  if (strcmp(asked, "avx512") == 0) {
    if (has512) return &advlab_table_avx512;
  } else if (strcmp(asked, "avx2") == 0) {
    if (has2) return &advlab_table_avx2;
  } else if (strcmp(asked, "sse2") == 0) {
    return &advlab_table_sse2;
  } else {
    snprintf(why, whyBytes, "ADVLAB_NATIVE_ISA is \"%s\", not avx512, avx2 or sse2", asked);
    return nullptr;
  }
  snprintf(why, whyBytes, "ADVLAB_NATIVE_ISA=%s: this processor does not have it (the best it has is %s)", asked, best->isa);
  return nullptr;
#else
#if defined(ADVLAB_ARM64)
  const KernelTable* best = &advlab_table_neon;
#else
  const KernelTable* best = &advlab_table_generic;
#endif
  if (!asked || strcmp(asked, best->isa) == 0) return best;
  snprintf(why, whyBytes, "ADVLAB_NATIVE_ISA is \"%s\", but this build has only %s", asked, best->isa);
  return nullptr;
#endif
}

}  // namespace

NAPI_MODULE_INIT() {
  char why[256];
  const KernelTable* chosen = chooseIsa(why, sizeof why);
  if (!chosen) {
    napi_throw_error(env, nullptr, why);
    return nullptr;
  }
  table = chosen;
  const napi_property_descriptor props[] = {
      {"feedforwardRange", nullptr, FeedforwardRange, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gradientRange", nullptr, GradientRange, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"descendRange", nullptr, DescendRange, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sgdRange", nullptr, SgdRange, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"groupScratchBytes", nullptr, GroupScratchBytes, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"normalPairs", nullptr, NormalPairs, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
