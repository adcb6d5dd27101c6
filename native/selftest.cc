// A self-contained run of the kernel bodies for one instruction set, without Node (development
// only): used to run the NEON build under qemu and compare it with an x86 build.
//   g++ -O2 -std=gnu++17 -ffp-contract=off -fno-math-errno -fno-strict-aliasing -DADVLAB_SSE2 native/selftest.cc -o /tmp/st && /tmp/st out.bin
//   aarch64-linux-gnu-g++ -static ... -DADVLAB_NEON native/selftest.cc -o /tmp/st-arm && qemu-aarch64 /tmp/st-arm out-arm.bin
// Writes every output (feedforward, gradients and losses for each loss, descent images and
// steps for a set of programs, sgd weights) as float32 to the file; checks that splitting the
// image range in two gives the same bits, and exits 1 if not.
#if defined(ADVLAB_AVX512)
#define ADVLAB_ISA_NAME "avx512"
#elif defined(ADVLAB_AVX2)
#define ADVLAB_ISA_NAME "avx2"
#elif defined(ADVLAB_NEON)
#define ADVLAB_ISA_NAME "neon"
#elif defined(ADVLAB_GENERIC)
#define ADVLAB_ISA_NAME "generic"
#else
#define ADVLAB_ISA_NAME "sse2"
#endif
#define ADVLAB_NS selftest_ns
#define ADVLAB_TABLE selftest_table
#include "kernels_impl.h"

#include <stdio.h>
#include <stdlib.h>

using namespace selftest_ns;

static uint32_t seed = 12345;
static float rnd() {
  seed = seed * 1664525u + 1013904223u;
  return (float)(seed >> 8) / 16777216.0f;
}
static float* floats(long n, float lo, float hi) {
  float* p = (float*)aligned_alloc(64, (size_t)((4 * n + 63) / 64 * 64));
  for (long k = 0; k < n; k++) p[k] = lo + (hi - lo) * rnd();
  return p;
}
static FILE* out;
static int bad = 0;
static void emit(const float* p, long n) { fwrite(p, 4, (size_t)n, out); }
static void same(const void* a, const void* b, size_t bytes, const char* what) {
  if (memcmp(a, b, bytes) != 0) {
    printf("split differs: %s\n", what);
    bad = 1;
  }
}

int main(int argc, char** argv) {
  out = fopen(argc > 1 ? argv[1] : "selftest.bin", "wb");
  const long sizes[] = {37, 13, 5, 3};
  const int acts[][3] = {{ACT_SIGMOID, ACT_SIGMOID, ACT_SIGMOID}, {ACT_RELU, ACT_SIGMOID, ACT_IDENTITY}};
  int32_t cancel = 0;
  for (int variant = 0; variant < 2; variant++) {
    NetDesc net;
    net.L = 3;
    net.maxRows = 13;
    net.sumRows = 21;
    for (int l = 0; l < 3; l++) {
      const long rows = sizes[l + 1], cols = sizes[l];
      net.layer[l] = LayerDesc{rows, cols, acts[variant][l], floats(rows * cols, -0.6f, 0.6f), floats(rows, -0.2f, 0.2f)};
    }
    const long n = 11, d = 37, classes = 3;
    const GroupLayout lay = advlabGroupLayout(&net);
    uint8_t* scratch = (uint8_t*)aligned_alloc(64, (lay.total + 63) / 64 * 64);
    float* images = floats(n * d, 0, 1);
    uint8_t labels[16];
    for (long k = 0; k < n; k++) labels[k] = (uint8_t)(k % 3);
    // forward
    float* o1 = floats(n * classes, 0, 0);
    float* o2 = floats(n * classes, 0, 0);
    ForwardJob F = {&net, images, 0, n, o1, scratch, &cancel};
    feedforward(&F);
    F.out = o2;
    F.i1 = 4;
    feedforward(&F);
    F.i0 = 4;
    F.i1 = n;
    feedforward(&F);
    same(o1, o2, 4 * n * classes, "feedforward");
    emit(o1, n * classes);
    // gradients, every loss
    float* cot = floats(n * classes, -1, 1);
    for (int kind = 0; kind < 4; kind++) {
      float* g1 = floats(n * d, 0, 0);
      float* g2 = floats(n * d, 0, 0);
      float l1[16], l2[16];
      GradientJob G = {&net, LossDesc{kind, 0.1f, kind == LOSS_MARGIN}, images, labels, cot, 0, n, l1, g1, scratch, &cancel};
      gradient(&G);
      G.gradOut = g2;
      G.lossOut = l2;
      G.i1 = 5;
      gradient(&G);
      G.i0 = 5;
      G.i1 = n;
      gradient(&G);
      same(g1, g2, 4 * n * d, "gradient");
      emit(g1, n * d);
      if (kind != LOSS_COTANGENT) emit(l1, n);
    }
    // descent programs
    float* prior = floats(n * d, 0, 1);
    for (int rule = 0; rule < 3; rule++) {
      for (int ball = 0; ball < 3; ball++) {
        for (int flags = 0; flags < 4; flags++) {
          float* x1 = floats(n * d, 0, 0);
          float* x2 = floats(n * d, 0, 0);
          memcpy(x1, images, 4 * n * d);
          memcpy(x2, images, 4 * n * d);
          int32_t u1[16], u2[16];
          DescentJob D = {};
          D.net = &net;
          D.x = x1;
          D.labels = labels;
          D.prior = (flags & 1) ? prior : nullptr;
          D.origins = images;
          D.used = u1;
          D.steps = 6;
          D.rule = rule;
          D.ball = ball;
          D.clip = 1;
          D.early = (flags & 2) != 0;
          D.eta = rule == STEP_SIGN ? 0.02f : 0.3f;
          D.lam = 0.05f;
          D.eps = ball == BALL_L2 ? 1.0f : 0.1f;
          D.loss = LossDesc{variant == 0 ? LOSS_QUADRATIC : LOSS_SOFTMAX_CE, 0, rule == 1};
          D.i0 = 0;
          D.i1 = n;
          D.scratch = scratch;
          D.cancel = &cancel;
          descend(&D);
          D.x = x2;
          D.used = u2;
          D.i1 = 9;
          descend(&D);
          D.i0 = 9;
          D.i1 = n;
          descend(&D);
          same(x1, x2, 4 * n * d, "descent");
          same(u1, u2, 4 * n, "descent steps");
          emit(x1, n * d);
          float uf[16];
          for (long k = 0; k < n; k++) uf[k] = (float)u1[k];
          emit(uf, n);
        }
      }
    }
    // sgd, one thread
    {
      const long B = 4, N = 10;
      uint32_t order[10] = {3, 1, 4, 0, 5, 9, 2, 6, 8, 7};
      float* actsBuf = floats(2 * B * 21, 0, 0);
      float* deltasBuf = floats(B * 21, 0, 0);
      uint8_t lab[64];
      int32_t bar[2] = {0, 0}, stop = 0;
      void* work = malloc(advlabSgdWorkBytes(&net, B));
      SgdJob S = {};
      S.net = &net;
      S.images = images;
      S.labels = labels;
      S.order = order;
      S.n = N;
      S.B = B;
      S.spins = 10;
      S.eta = 0.5f;
      S.barrier = bar;
      S.stop = &stop;
      S.acts = actsBuf;
      S.deltas = deltasBuf;
      S.scratch = lab;
      S.loss = variant == 0 ? LOSS_QUADRATIC : LOSS_SOFTMAX_CE;
      S.k0 = 0;
      S.k1 = 3;
      S.t = 0;
      S.T = 1;
      S.cancel = &cancel;
      S.meet = [](int32_t*, int, int, const int32_t*) { return true; };
      S.work = work;
      sgd(&S);
      for (int l = 0; l < 3; l++) {
        emit(net.layer[l].W, net.layer[l].rows * net.layer[l].cols);
        emit(net.layer[l].b, net.layer[l].rows);
      }
    }
  }
  fclose(out);
  printf("%s selftest: %s\n", ADVLAB_ISA_NAME, bad ? "SPLITS DIFFER" : "splits bit-identical");
  return bad;
}
