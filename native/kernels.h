// What the entry points (native/addon.cc) hand to the kernel bodies (native/kernels_impl.h):
// the memory's tables read once and checked, as native pointers, and the scratch layout. The
// kernels never read the network table, the program or the sgd context themselves, so a change
// to those words during a call cannot move a pointer past what was checked.
#ifndef ADVLAB_NATIVE_KERNELS_H
#define ADVLAB_NATIVE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define ADVLAB_MAX_LAYERS 64
/** Images that stay together for all their attack steps (a group). */
#define ADVLAB_GROUP 8

struct LayerDesc {
  long rows, cols;
  int act;
  float* W;  // rows x cols, row-major
  float* b;  // rows
};

struct NetDesc {
  int L;
  long maxRows, sumRows;
  LayerDesc layer[ADVLAB_MAX_LAYERS];
};

struct LossDesc {
  int kind;
  float kappa;
  int targeted;
};

struct ForwardJob {
  const NetDesc* net;
  const float* images;
  long i0, i1;
  float* out;
  uint8_t* scratch;
  const int32_t* cancel;
};

struct GradientJob {
  const NetDesc* net;
  LossDesc loss;
  const float* images;
  const uint8_t* labels;  // null for the cotangent kind
  const float* cot;       // the cotangent kind only
  long i0, i1;
  float* lossOut;  // null: no losses
  float* gradOut;
  uint8_t* scratch;
  const int32_t* cancel;
};

struct DescentJob {
  const NetDesc* net;
  float* x;
  const uint8_t* labels;
  const float* prior;    // null: no prior
  const float* origins;  // null: none (then the ball is none)
  int32_t* used;         // null: not written
  long steps;
  int rule, ball, clip, early, thresholded;
  float eta, lam, eps, threshold;
  LossDesc loss;
  long i0, i1;
  uint8_t* scratch;
  const int32_t* cancel;
};

struct SgdJob {
  const NetDesc* net;
  const float* images;
  const uint8_t* labels;
  const uint32_t* order;
  long n, B;
  int spins;
  float eta;
  int32_t* barrier;  // count, generation
  int32_t* stop;     // SGD_STOP
  float* acts;       // B x 2 x units per layer
  float* deltas;     // B x units per layer
  uint8_t* scratch;  // this thread's: B labels
  int loss;
  long k0, k1;
  int t, T;
  const int32_t* cancel;
  bool (*meet)(int32_t* bar, int T, int spins, const int32_t* cancel);  // false: left waiting for a thread that is gone
  void* work;  // advlabSgdWorkBytes, from the caller (not shared memory)
};

struct KernelTable {
  const char* isa;
  void (*feedforward)(const ForwardJob*);
  void (*gradient)(const GradientJob*);
  void (*descend)(const DescentJob*);
  void (*sgd)(const SgdJob*);
};

/** Byte offsets of the parts of a group scratch (each 64-byte aligned), from its 64-aligned start. */
struct GroupLayout {
  uint64_t tx, tt, to, tg, tb, goal, cot, loss, done, dT, list, tmp;
  uint64_t acts[ADVLAB_MAX_LAYERS], aux[ADVLAB_MAX_LAYERS], delta[ADVLAB_MAX_LAYERS];
  uint64_t ping, pong;  // feedforward's two buffers (within the same scratch)
  uint64_t total;       // bytes descend and gradient use
  uint64_t forwardTotal;  // bytes feedforward uses
};

static inline uint64_t advlabLine(uint64_t bytes) { return (bytes + 63) & ~(uint64_t)63; }

/**
 * Group scratch: tx, tt (prior), to (origins), tg (gradients), tb (binarised): G input rows each; labels (G u8);
 * cotangents (G output rows); losses, steps done (G each); per layer G rows of activations, of
 * their aux (sigmoid's 1 - a, ReLU's mask, 1) and of deltas; the deltas transposed (units x G);
 * a list of units; a spare row. feedforward uses two buffers of G x maxRows from the start.
 */
static inline GroupLayout advlabGroupLayout(const NetDesc* net) {
  GroupLayout g;
  const uint64_t G = ADVLAB_GROUP;
  const uint64_t d = (uint64_t)net->layer[0].cols, classes = (uint64_t)net->layer[net->L - 1].rows;
  const uint64_t maxRows = (uint64_t)net->maxRows;
  uint64_t at = 0;
  g.tx = at; at += advlabLine(4 * G * d);
  g.tt = at; at += advlabLine(4 * G * d);
  g.to = at; at += advlabLine(4 * G * d);
  g.tg = at; at += advlabLine(4 * G * d);
  g.tb = at; at += advlabLine(4 * G * d);
  g.goal = at; at += advlabLine(G);
  g.cot = at; at += advlabLine(4 * G * classes);
  g.loss = at; at += advlabLine(4 * G);
  g.done = at; at += advlabLine(4 * G);
  g.dT = at; at += advlabLine(4 * G * maxRows);
  g.list = at; at += advlabLine(4 * maxRows);
  g.tmp = at; at += advlabLine(4 * (maxRows > d ? maxRows : d));
  for (int l = 0; l < net->L; l++) {
    const uint64_t rows = (uint64_t)net->layer[l].rows;
    g.acts[l] = at; at += advlabLine(4 * G * rows);
    g.aux[l] = at; at += advlabLine(4 * G * rows);
    g.delta[l] = at; at += advlabLine(4 * G * rows);
  }
  g.total = at + 64;  // + 64: room to align the start
  g.ping = 0;
  g.pong = advlabLine(4 * G * maxRows);
  g.forwardTotal = 2 * advlabLine(4 * G * maxRows) + 64;
  return g;
}

/** Private (heap) bytes an sgd call needs: 2 B pointers, maxRows x ADVLAB_GROUP floats, maxRows int32. */
static inline uint64_t advlabSgdWorkBytes(const NetDesc* net, uint64_t B) {
  return 2 * B * sizeof(void*) + 4 * (uint64_t)ADVLAB_GROUP * (uint64_t)net->maxRows + 4 * (uint64_t)net->maxRows;
}

static inline uint8_t* advlabAlign64(uint8_t* p) { return (uint8_t*)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

#endif
