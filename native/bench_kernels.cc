// Single-thread timing of the inner kernels (development only, not part of the module):
//   g++ -O3 -std=gnu++17 -ffp-contract=off -fno-math-errno -fno-strict-aliasing -mavx512f -mavx512vl -mavx2 -mfma \
//       -DADVLAB_AVX512 native/bench_kernels.cc -o /tmp/bench_kernels && /tmp/bench_kernels
// (or -DADVLAB_AVX2 -mavx2 -mfma, or -DADVLAB_SSE2). Prints GFLOP/s of the first layer's forward
// (z = W x, with the activation) and transposed product (W^T delta) for a group of 8 images, and
// of the sgd update, on [784, 30] and [784, 100] layers.
#if defined(ADVLAB_AVX512)
#define ADVLAB_NS bench_ns
#define ADVLAB_ISA_NAME "avx512"
#elif defined(ADVLAB_AVX2)
#define ADVLAB_NS bench_ns
#define ADVLAB_ISA_NAME "avx2"
#else
#define ADVLAB_NS bench_ns
#define ADVLAB_ISA_NAME "sse2"
#endif
#define ADVLAB_TABLE bench_table
#include "kernels_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <thread>

static double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

template <class F>
static double best(F f, int reps) {
  double b = 1e9;
  for (int k = 0; k < 7; k++) {
    const double t = now();
    for (int r = 0; r < reps; r++) f();
    b = fmin(b, (now() - t) / reps);
  }
  return b;
}

int main() {
  using namespace bench_ns;
  const long d = 784;
  const long sizes[] = {30, 100};
  for (long rows : sizes) {
    if (getenv("DESCENT_ONLY")) break;
    float* W = (float*)aligned_alloc(64, 4 * rows * d);
    float* b = (float*)aligned_alloc(64, 4 * rows);
    float* x = (float*)aligned_alloc(64, 4 * 8 * d);
    float* g = (float*)aligned_alloc(64, 4 * 8 * d);
    float* a = (float*)aligned_alloc(64, 4 * 8 * rows);
    float* aux = (float*)aligned_alloc(64, 4 * 8 * rows);
    float* delta = (float*)aligned_alloc(64, 4 * 8 * rows);
    float* dT = (float*)aligned_alloc(64, 4 * 8 * rows);
    int32_t* list = (int32_t*)aligned_alloc(64, 4 * rows);
    for (long k = 0; k < rows * d; k++) W[k] = (float)((k * 7919) % 1000) / 1000.0f - 0.5f;
    for (long k = 0; k < rows; k++) b[k] = 0.1f;
    for (long k = 0; k < 8 * d; k++) x[k] = (float)((k * 104729) % 1000) / 1000.0f;
    for (long k = 0; k < 8 * rows; k++) delta[k] = (float)((k * 31) % 17) / 17.0f - 0.4f;
    LayerDesc ly = {rows, d, ACT_SIGMOID, W, b};
    const float* in[8];
    for (int i = 0; i < 8; i++) in[i] = x + i * d;
    const double flops = 2.0 * rows * d * 8;
    const double tf = best([&] { forwardLayer(ly, in, 8, Rows{a, rows}, Rows{aux, rows}, 0, rows); }, 2000);
    const double tb = best([&] { backLayer(ly, Rows{delta, rows}, 8, Rows{g, d}, dT, list); }, 2000);
    const double tu = best([&] { updateLayer(ly, 0, rows, 8, delta, in, 1e-9f); }, 2000);
    printf("%s [784 -> %ld], 8 images: forward %.1f GFLOP/s (%.2f us), W^T delta %.1f GFLOP/s (%.2f us), sgd update %.1f GFLOP/s\n",
           ADVLAB_ISA_NAME, rows, flops / tf * 1e-9, tf * 1e6, flops / tb * 1e-9, tb * 1e6, flops / tu * 1e-9);
  }
  // The whole descent loop (sneaky-attack shape: gradient step, prior, quadratic loss, targeted)
  // on a random [784, 30, 10] sigmoid network, 64 images x 50 steps.
  {
    const long n = 64, steps = 50;
    NetDesc net;
    net.L = 2;
    net.maxRows = 30;
    net.sumRows = 40;
    float* W1 = (float*)aligned_alloc(64, 4 * 30 * 784);
    float* b1 = (float*)aligned_alloc(64, 4 * 64);
    float* W2 = (float*)aligned_alloc(64, 4 * 300);
    float* b2 = (float*)aligned_alloc(64, 4 * 64);
    for (long k = 0; k < 30 * 784; k++) W1[k] = ((float)((k * 7919) % 1000) / 1000.0f - 0.5f) * 0.2f;
    for (long k = 0; k < 300; k++) W2[k] = (float)((k * 13) % 100) / 50.0f - 1.0f;
    for (long k = 0; k < 30; k++) b1[k] = 0.1f;
    for (long k = 0; k < 10; k++) b2[k] = -0.1f;
    net.layer[0] = LayerDesc{30, 784, ACT_SIGMOID, W1, b1};
    net.layer[1] = LayerDesc{10, 30, ACT_SIGMOID, W2, b2};
    float* x = (float*)aligned_alloc(64, 4 * n * 784);
    float* prior = (float*)aligned_alloc(64, 4 * n * 784);
    uint8_t* labels = (uint8_t*)aligned_alloc(64, 64 + n);
    for (long k = 0; k < n * 784; k++) prior[k] = (float)((k * 31) % 255) / 255.0f;
    for (long k = 0; k < n; k++) labels[k] = (uint8_t)(k % 10);
    const GroupLayout lay = advlabGroupLayout(&net);
    uint8_t* scratch = (uint8_t*)aligned_alloc(64, (lay.total + 63) / 64 * 64);
    int32_t cancel = 0;
    DescentJob J = {};
    J.net = &net;
    J.x = x;
    J.labels = labels;
    J.prior = prior;
    J.steps = steps;
    J.rule = STEP_GRADIENT;
    J.eta = 1.0f;
    J.lam = 0.05f;
    J.loss = LossDesc{LOSS_QUADRATIC, 0, 1};
    J.i0 = 0;
    J.i1 = n;
    J.scratch = scratch;
    J.cancel = &cancel;
    const int reps = getenv("REPS") ? atoi(getenv("REPS")) : 3;
    float* x0 = (float*)aligned_alloc(64, 4 * n * 784);
    for (long k = 0; k < n * 784; k++) x0[k] = (float)((k * 104729) % 1000) / 1000.0f;
    const double t = best([&] {
      memcpy(x, x0, 4 * n * 784);
      descend(&J);
    }, reps);
    if (getenv("TWO")) {
      // two threads, one network, separate images and scratch (as the library's workers)
      float* x2 = (float*)aligned_alloc(64, 4 * n * 784);
      uint8_t* scratch2 = (uint8_t*)aligned_alloc(64, (lay.total + 63) / 64 * 64);
      DescentJob J2 = J;
      static NetDesc net2;
      net2 = net;
      if (getenv("OWN_W")) {
        float* W1b = (float*)aligned_alloc(64, 4 * 30 * 784);
        memcpy(W1b, W1, 4 * 30 * 784);
        net2.layer[0].W = W1b;
        J2.net = &net2;
      }
      if (getenv("OWN_PRIOR")) {
        float* p2 = (float*)aligned_alloc(64, 4 * n * 784);
        memcpy(p2, prior, 4 * n * 784);
        J2.prior = p2;
      }
      J2.x = x2;
      J2.scratch = scratch2;
      const double t2 = best([&] {
        memcpy(x, x0, 4 * n * 784);
        memcpy(x2, x0, 4 * n * 784);
        std::thread th([&] { descend(&J2); });
        descend(&J);
        th.join();
      }, reps);
      printf("two threads: %.3f us per image-step each\n", t2 / (n * steps) * 1e6);
    }
    const double flops = 4.0 * (784 * 30 + 300);
    printf("%s descent [784,30,10] sneaky shape: %.3f us per image-step, %.1f GFLOP/s\n", ADVLAB_ISA_NAME, t / (n * steps) * 1e6,
           flops * n * steps / t * 1e-9);
  }
  return 0;
}
