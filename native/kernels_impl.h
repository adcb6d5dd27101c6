// The kernel bodies, compiled once per instruction set: each native/isa_*.cc defines the ISA
// macro (see simd.h) and ADVLAB_NS, then includes this file. Everything here is in that
// namespace or static, so the builds never share a symbol.
//
// Order of operations (what makes every output number independent of tiling, group slot,
// range split and thread count, at one instruction-set level):
//
// - A dot product sum_c W[r, c] x[c] (every forward layer): lane j of a VW-lane accumulator
//   (VW = 16 AVX-512, 8 AVX2, 4 SSE2/NEON) takes columns c = j mod VW in order of c by
//   multiply-add (vmadd: one rounding where the build has FMA, two otherwise), the last partial
//   vector padded with zeros; then the lanes are summed by the halving tree (hsum1/hsumVW: lane
//   j + lane j + VW/2, then j + j + VW/4, ...). z = that sum + b[r]. A tile of several rows and
//   images only shares the loads: each accumulator is one (row, image) pair.
// - An activation: sigmoid a = 1 / (1 + e) or e / (1 + e) (e = exp(-|z|), vexp in simd.h) and
//   its aux 1 - a the other one of the two, the smaller one flushed to 0 below 1e-30; ReLU
//   a = z > 0 ? z : 0 and mask 1 or 0; identity a = z, aux 1. The same lane operations for
//   every unit (partial vectors at row ends compute the same operations on the lanes used).
// - A transposed product g[c] = sum_r delta[r] W[r, c] (every backward layer): per column, over
//   rows r in increasing order by multiply-add from +0, then + 0 (so a zero is +0). Rows whose
//   deltas are 0 for every image of a group are skipped: with finite weights this changes no
//   number (a skipped term could only turn a -0 into +0, and the final + 0 does that anyway).
// - g *= act'(z): sigmoid flush(g * (a * (1 - a))), ReLU g * mask.
// - The output layer's dL/da and losses: as outputDelta in assembly/kernels.ts, in scalar
//   float32 in index order (quadratic: value = sum by multiply-add, then * 0.5; softmax: the
//   largest output subtracted, e^ by vexp, sum in order, (max + logf(sum)) - a_y, p = e / sum;
//   margin: the first largest other output), then chained through the output activation as
//   (dL/da * a) * (1 - a) (flushed) for sigmoid, dL/da * mask for ReLU.
// - A thresholded program's network input: x > threshold ? 1 : 0 (the gradient then applies to x).
// - An attack step (per image, lane by lane, see moveImage): u = (targeted ? g : -g), plus
//   lam (x - prior) by multiply-add; x - eta * u or x - eta * sign(u); the L-inf ball
//   min(max(x, o - eps), o + eps); the clip min(max(x, 0), 1) (for the rules without norms
//   done as each vector of dL/dx leaves the first layer's transposed product: the same lane
//   operations, see MoveSpec). Norms (the L2 step and ball):
//   sum of squares by lanes (columns mod VW by multiply-add, zero-padded) and the halving tree,
//   then sqrtf; the L2 ball as o + (x - o) * (eps / norm) by multiply-add.
// - An sgd weight: W[r, c] - rate * s with s = sum over the batch's examples in order by
//   multiply-add from 0, rate = eta / m; a bias: b[r] - rate * (0 + delta_0 + delta_1 + ...).
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "layout.h"
#include "simd.h"

#ifndef ADVLAB_NS
#error "define ADVLAB_NS"
#endif

namespace ADVLAB_NS {

// Tile shapes: rows x images (forward), column vectors x images (backward), rows x column
// vectors (sgd update); accumulators plus operands fit the register file.
#if defined(ADVLAB_TILES)
enum { ADVLAB_TILES };
#elif VW == 16 || defined(ADVLAB_NEON)
enum { FWD_R = 5, FWD_I = 4, BACK_C = 3, BACK_I = 8, UPD_R = 3, UPD_C = 4 };
#else
enum { FWD_R = 3, FWD_I = 4, BACK_C = 3, BACK_I = 3, UPD_R = 3, UPD_C = 3 };
#endif

struct Rows {
  float* p;
  long stride;
  float* row(long i) const { return p + i * stride; }
};

static inline bool cancelled(const int32_t* cancel) { return __atomic_load_n(cancel, __ATOMIC_ACQUIRE) != 0; }
static inline long minl(long a, long b) { return a < b ? a : b; }

// ---------------------------------------------------------------- forward

/** out_i[r + q] = z = sum_c W[r + q, c] x_i[c] + b[r + q] for q < R, i < I (before the activation). */
template <int R, int I>
static inline void dotTile(const float* w, const float* b, long cols, const float* const* x, const Rows& out, long r) {
  vf acc[R * I];
  for (int k = 0; k < R * I; k++) acc[k] = vzero();
  const float* wr[R];
  for (int q = 0; q < R; q++) wr[q] = w + q * cols;
  const float* xi[I];
  for (int i = 0; i < I; i++) xi[i] = x[i];
  long c = 0;
  for (; c + VW <= cols; c += VW) {
    vf wv[R];
    for (int q = 0; q < R; q++) wv[q] = vload(wr[q] + c);
    for (int i = 0; i < I; i++) {
      const vf xv = vload(xi[i] + c);
      for (int q = 0; q < R; q++) acc[q * I + i] = vmadd(wv[q], xv, acc[q * I + i]);
    }
  }
  if (c < cols) {
    const int nn = (int)(cols - c);
    vf wv[R];
    for (int q = 0; q < R; q++) wv[q] = vloadn(wr[q] + c, nn);
    for (int i = 0; i < I; i++) {
      const vf xv = vloadn(xi[i] + c, nn);
      for (int q = 0; q < R; q++) acc[q * I + i] = vmadd(wv[q], xv, acc[q * I + i]);
    }
  }
  for (int k0 = 0; k0 < R * I; k0 += VW) {
    vf part[VW];
    for (int k = 0; k < VW; k++) part[k] = k0 + k < R * I ? acc[k0 + k] : vzero();
    float s[VW];
    vstore(s, hsumVW(part));
    for (int k = 0; k < VW && k0 + k < R * I; k++) {
      const int q = (k0 + k) / I, i = (k0 + k) % I;
      out.row(i)[r + q] = s[k] + b[r + q];
    }
  }
}

template <int I>
static void forwardChunk(const LayerDesc& ly, const float* const* in, const Rows& out, long r0, long r1) {
  long r = r0;
  for (; r + FWD_R <= r1; r += FWD_R) dotTile<FWD_R, I>(ly.W + r * ly.cols, ly.b, ly.cols, in, out, r);
  for (; r < r1; r++) dotTile<1, I>(ly.W + r * ly.cols, ly.b, ly.cols, in, out, r);
}

template <int I>
static inline void fwdDispatch(long n, const LayerDesc& ly, const float* const* in, const Rows& out, long r0, long r1) {
  if (n == I) forwardChunk<I>(ly, in, out, r0, r1);
  else if constexpr (I > 1) fwdDispatch<I - 1>(n, ly, in, out, r0, r1);
}

/** a = act(z) in place of the n numbers z at a, and their aux at aux (when not null). */
static void activate(float* a, float* aux, long n, int act) {
  for (long c = 0; c < n; c += VW) {
    const int nn = (int)minl(VW, n - c);
    const vf z = nn == VW ? vload(a + c) : vloadn(a + c, nn);
    vf av, xv;
    if (act == ACT_SIGMOID) {
      const vf e = vexp(-vabs(z));
      const vf big = vset1(1.0f) / (vset1(1.0f) + e);
      const vf small = vflush(e * big);
      const vi pos = z >= vzero();
      av = vsel(pos, big, small);
      xv = vsel(pos, small, big);
    } else if (act == ACT_RELU) {
      const vi on = z > vzero();
      av = vsel(on, z, vzero());
      xv = vsel(on, vset1(1.0f), vzero());
    } else {
      av = z;
      xv = vset1(1.0f);
    }
    if (nn == VW) {
      vstore(a + c, av);
      if (aux) vstore(aux + c, xv);
    } else {
      vstoren(a + c, av, nn);
      if (aux) vstoren(aux + c, xv, nn);
    }
  }
}

/**
 * Layer `ly` forward for n inputs (pointers in[i]), units [r0, r1): out.row(i)[r] = a and, when
 * aux.p, aux.row(i)[r] = its aux. Images go in nearly equal chunks of at most FWD_I.
 */
static void forwardLayer(const LayerDesc& ly, const float* const* in, long n, const Rows& out, const Rows& aux, long r0, long r1) {
  if (r1 <= r0 || n <= 0) return;
  const long chunks = (n + FWD_I - 1) / FWD_I;
  long i = 0;
  for (long ch = 0; ch < chunks; ch++) {
    const long I = n / chunks + (ch < n % chunks ? 1 : 0);
    const Rows o = {out.row(i), out.stride};
    fwdDispatch<FWD_I>(I, ly, in + i, o, r0, r1);
    i += I;
  }
  if (ly.act == ACT_IDENTITY && !aux.p) return;
  if (r0 == 0 && r1 == ly.rows && out.stride == ly.rows && (!aux.p || aux.stride == ly.rows)) {
    activate(out.p, aux.p, n * ly.rows, ly.act);  // the n rows are one contiguous span
  } else {
    for (long k = 0; k < n; k++) activate(out.row(k) + r0, aux.p ? aux.row(k) + r0 : nullptr, r1 - r0, ly.act);
  }
}

// ---------------------------------------------------------------- backward

/**
 * An attack step fused into the first layer's transposed product (the step rules and balls that
 * need no norm): each vector of dL/dx moves its image's numbers at once, lane by lane with
 * exactly the operations of movePass (below), instead of being stored and read again.
 * x[k] == null: image k does not move (it stopped early).
 */
struct MoveSpec {
  float* x[ADVLAB_GROUP];
  const float* xt[ADVLAB_GROUP];
  const float* o[ADVLAB_GROUP];
  float eta, lam, eps;
  bool flip, prior, sign, linf, clip;
};

static inline vf ld(const float* p, int nn) { return nn == VW ? vload(p) : vloadn(p, nn); }
static inline void st(float* p, vf v, int nn) {
  if (nn == VW) vstore(p, v);
  else vstoren(p, v, nn);
}
static inline vf signOf(vf u) {
  return vsel(u > vzero(), vset1(1.0f), vzero()) - vsel(u < vzero(), vset1(1.0f), vzero());
}

/** One vector of the attack step: x - eta * u (or sign(u)), the L-inf ball, the clip; see movePass. */
static inline vf moveVector(vf xv, vf u, const float* xt, const float* o, int nn, float eta, float lam, float eps, bool flip, bool prior, bool sign,
                            bool linf, bool clip) {
  if (flip) u = -u;
  if (prior) u = vmadd(vset1(lam), xv - ld(xt, nn), u);
  xv = xv - vset1(eta) * (sign ? signOf(u) : u);
  if (linf) {
    const vf ov = ld(o, nn);
    xv = vmin(vmax(xv, ov - vset1(eps)), ov + vset1(eps));
  }
  if (clip) xv = vmin(vmax(xv, vzero()), vset1(1.0f));
  return xv;
}

/**
 * g_i[c .. c + C VW) = sum over the listed rows r (increasing) of dT[r I + i] W[r, c ..], + 0;
 * with P the last of the C vectors has only nlast columns. With mv, image k0 + i moves by those
 * numbers instead (nothing is stored in g).
 */
template <int C, int I, bool P>
static inline void backTile(const float* W, long cols, const int32_t* list, long nlist, const float* dT, long c, int nlast, const Rows& g,
                            const MoveSpec* mv, long k0) {
  vf acc[C * I];
  for (int k = 0; k < C * I; k++) acc[k] = vzero();
  const float* w0 = W + c;
  for (long q = 0; q < nlist; q++) {
    const long r = list[q];
    const float* wr = w0 + r * cols;
    vf wv[C];
    for (int k = 0; k < C; k++) wv[k] = (P && k == C - 1) ? vloadn(wr + k * VW, nlast) : vload(wr + k * VW);
    const float* dr = dT + r * I;
    for (int i = 0; i < I; i++) {
      const vf dv = vset1(dr[i]);
      for (int k = 0; k < C; k++) acc[k * I + i] = vmadd(dv, wv[k], acc[k * I + i]);
    }
  }
  for (int i = 0; i < I; i++) {
    if (mv) {
      float* x = mv->x[k0 + i];
      if (!x) continue;
      const float* xt = mv->prior ? mv->xt[k0 + i] : nullptr;
      const float* o = mv->o[k0 + i];
      for (int k = 0; k < C; k++) {
        const long at = c + k * VW;
        const int nn = (P && k == C - 1) ? nlast : VW;
        const vf xv = moveVector(ld(x + at, nn), acc[k * I + i] + vzero(), xt + at, o + at, nn, mv->eta, mv->lam, mv->eps, mv->flip, mv->prior,
                                 mv->sign, mv->linf, mv->clip);
        st(x + at, xv, nn);
      }
    } else {
      float* gi = g.row(i) + c;
      for (int k = 0; k < C; k++) {
        const vf v = acc[k * I + i] + vzero();
        if (P && k == C - 1) vstoren(gi + k * VW, v, nlast);
        else vstore(gi + k * VW, v);
      }
    }
  }
}

template <int I>
static void backChunk(const LayerDesc& ly, const int32_t* list, long nlist, const float* dT, const Rows& g, const MoveSpec* mv, long k0) {
  const long cols = ly.cols;
  long c = 0;
  for (; c + BACK_C * VW <= cols; c += BACK_C * VW) backTile<BACK_C, I, false>(ly.W, cols, list, nlist, dT, c, VW, g, mv, k0);
  for (; c + VW <= cols; c += VW) backTile<1, I, false>(ly.W, cols, list, nlist, dT, c, VW, g, mv, k0);
  if (c < cols) backTile<1, I, true>(ly.W, cols, list, nlist, dT, c, (int)(cols - c), g, mv, k0);
}

template <int I>
static inline void backDispatch(long n, const LayerDesc& ly, const int32_t* list, long nlist, const float* dT, const Rows& g, const MoveSpec* mv,
                                long k0) {
  if (n == I) backChunk<I>(ly, list, nlist, dT, g, mv, k0);
  else if constexpr (I > 1) backDispatch<I - 1>(n, ly, list, nlist, dT, g, mv, k0);
}

/**
 * g.row(i) = W^T d.row(i) for n images (cols numbers each), or with mv the attack step on those
 * (see MoveSpec). dT: room for rows x BACK_I floats; list: rows int32.
 */
static void backLayer(const LayerDesc& ly, const Rows& d, long n, const Rows& g, float* dT, int32_t* list, const MoveSpec* mv = nullptr) {
  const long rows = ly.rows;
  const long chunks = (n + BACK_I - 1) / BACK_I;
  long i = 0;
  for (long ch = 0; ch < chunks; ch++) {
    const long I = n / chunks + (ch < n % chunks ? 1 : 0);
    long nlist = 0;
    for (long r = 0; r < rows; r++) {
      bool any = false;
      for (long k = 0; k < I; k++) {
        const float v = d.row(i + k)[r];
        dT[r * I + k] = v;
        any |= v != 0.0f;
      }
      if (any) list[nlist++] = (int32_t)r;
    }
    const Rows gi = {g.p ? g.row(i) : nullptr, g.stride};
    backDispatch<BACK_I>(I, ly, list, nlist, dT, gi, mv, i);
    i += I;
  }
}

/** g[c] *= act'(z[c]) for the `units` numbers of one image (a: activations, x: their aux). */
static void timesActPrime(float* g, const float* a, const float* x, long units, int act) {
  if (act != ACT_SIGMOID && act != ACT_RELU) return;
  for (long c = 0; c < units; c += VW) {
    const int nn = (int)minl(VW, units - c);
    const bool full = nn == VW;
    const vf gv = full ? vload(g + c) : vloadn(g + c, nn);
    const vf xv = full ? vload(x + c) : vloadn(x + c, nn);
    vf r;
    if (act == ACT_SIGMOID) {
      const vf av = full ? vload(a + c) : vloadn(a + c, nn);
      r = vflush(gv * (av * xv));
    } else {
      r = gv * xv;
    }
    if (full) vstore(g + c, r);
    else vstoren(g + c, r, nn);
  }
}

// ---------------------------------------------------------------- the output layer

/**
 * dL/dz of the output layer for n images, units [k0, k1) (whole rows for the losses that need
 * them): see outputDelta in assembly/kernels.ts. Labels are only compared with unit numbers.
 * cot: the cotangent rows (LOSS_COTANGENT). lossOut (when not null) gets the n losses.
 */
static void outputDelta(const Rows& A, const Rows& X, const Rows& D, const uint8_t* labels, const Rows& cot, long n, long units,
                        long k0, long k1, int act, int kind, float kappa, bool targeted, float* lossOut) {
  for (long i = 0; i < n; i++) {
    const long label = kind == LOSS_COTANGENT ? -1 : (long)labels[i];
    const float* row = A.row(i);
    const float* aux = X.row(i);
    float* drow = D.row(i);
    float value = 0;
    if (kind == LOSS_QUADRATIC) {
      for (long k = k0; k < k1; k++) {
        const float ak = row[k];
        const float diff = k == label ? (act == ACT_SIGMOID ? -aux[k] : ak - 1.0f) : ak;
        drow[k] = diff;
        value = smadd(diff, diff, value);
      }
      value *= 0.5f;
    } else if (kind == LOSS_SOFTMAX_CE) {
      float mx = row[0], ay = 0;
      for (long k = 0; k < units; k++) {
        const float ak = row[k];
        if (ak > mx) mx = ak;
        if (k == label) ay = ak;
      }
      for (long c = 0; c < units; c += VW) {
        const int nn = (int)minl(VW, units - c);
        const vf e = vexp((nn == VW ? vload(row + c) : vloadn(row + c, nn)) - vset1(mx));
        if (nn == VW) vstore(drow + c, e);
        else vstoren(drow + c, e, nn);
      }
      float sum = 0;
      for (long k = 0; k < units; k++) sum += drow[k];
      value = (mx + logf(sum)) - ay;
      for (long k = 0; k < units; k++) {
        const float p = drow[k] / sum;
        drow[k] = k == label ? p - 1.0f : p;
      }
    } else if (kind == LOSS_MARGIN) {
      float ay = 0, aj = 0;
      long j = -1;
      for (long k = 0; k < units; k++) {
        const float ak = row[k];
        drow[k] = 0;
        if (k == label) ay = ak;
        else if (j < 0 || ak > aj) {
          j = k;
          aj = ak;
        }
      }
      if (j >= 0) {
        const float m = aj - ay;
        const bool clamped = targeted ? m < -kappa : m > kappa;
        if (clamped) {
          value = targeted ? -kappa : kappa;
        } else {
          value = m;
          drow[j] = 1;
          if (label >= 0 && label < units) drow[label] = -1;
        }
      }
    } else {
      memmove(drow, cot.row(i), (size_t)units * 4);
    }
    if (act == ACT_SIGMOID) {
      for (long k = k0; k < k1; k++) drow[k] = sflush(drow[k] * row[k] * aux[k]);
    } else if (act == ACT_RELU) {
      for (long k = k0; k < k1; k++) drow[k] = drow[k] * aux[k];
    }
    if (lossOut) lossOut[i] = value;
  }
}

// ---------------------------------------------------------------- groups (descend, gradient)

struct Group {
  const NetDesc* net;
  GroupLayout lay;
  uint8_t* base;
  float* f(uint64_t off) const { return (float*)(base + off); }
  Rows acts(int l) const { return {f(lay.acts[l]), net->layer[l].rows}; }
  Rows aux(int l) const { return {f(lay.aux[l]), net->layer[l].rows}; }
  Rows delta(int l) const { return {f(lay.delta[l]), net->layer[l].rows}; }
};

static Group groupAt(const NetDesc* net, uint8_t* scratch) {
  Group g;
  g.net = net;
  g.lay = advlabGroupLayout(net);
  g.base = advlabAlign64(scratch);
  return g;
}

/** Forward through every layer for the m inputs in[k], keeping activations and aux per layer. */
static void groupForward(const Group& g, const float* const* in0, long m) {
  const float* in[ADVLAB_GROUP];
  for (long k = 0; k < m; k++) in[k] = in0[k];
  for (int l = 0; l < g.net->L; l++) {
    const Rows a = g.acts(l);
    forwardLayer(g.net->layer[l], in, m, a, g.aux(l), 0, g.net->layer[l].rows);
    for (long k = 0; k < m; k++) in[k] = a.row(k);
  }
}

/**
 * Backward after groupForward: losses to lossOut (when not null), dL/dx of image k to grad.row(k),
 * or with mv the attack step on the images (see MoveSpec).
 */
static void groupBackward(const Group& g, long m, const LossDesc& loss, const Rows& grad, float* lossOut, const MoveSpec* mv = nullptr) {
  const NetDesc* net = g.net;
  const int top = net->L - 1;
  const long classes = net->layer[top].rows;
  const Rows cot = {g.f(g.lay.cot), classes};
  outputDelta(g.acts(top), g.aux(top), g.delta(top), g.base + g.lay.goal, cot, m, classes, 0, classes, net->layer[top].act,
              loss.kind, loss.kappa, loss.targeted != 0, lossOut);
  float* dT = g.f(g.lay.dT);
  int32_t* list = (int32_t*)(g.base + g.lay.list);
  for (int l = top; l >= 0; l--) {
    if (l == 0) {
      backLayer(net->layer[0], g.delta(0), m, grad, dT, list, mv);
    } else {
      const Rows dn = g.delta(l - 1);
      backLayer(net->layer[l], g.delta(l), m, dn, dT, list);
      const Rows an = g.acts(l - 1), xn = g.aux(l - 1);
      for (long k = 0; k < m; k++) timesActPrime(dn.row(k), an.row(k), xn.row(k), net->layer[l].cols, net->layer[l - 1].act);
    }
  }
}

// ---------------------------------------------------------------- one attack step on one image

/**
 * u = (flip ? -g : g) + lam (x - xt) (prior), x -= eta * u (or eta * sign(u)), the L-inf ball of
 * radius eps around o, the clip to [0, 1].
 */
template <bool FLIP, bool PRIOR, bool SIGN, bool LINF, bool CLIP>
static void movePass(float* x, const float* g, const float* xt, const float* o, long d, float eta, float lam, float eps) {
  const vf eta4 = vset1(eta), lam4 = vset1(lam), eps4 = vset1(eps);
  for (long c = 0; c < d; c += VW) {
    const int nn = (int)minl(VW, d - c);
    vf xv = ld(x + c, nn);
    vf u = ld(g + c, nn);
    if (FLIP) u = -u;
    if (PRIOR) u = vmadd(lam4, xv - ld(xt + c, nn), u);
    xv = xv - eta4 * (SIGN ? signOf(u) : u);
    if (LINF) {
      const vf ov = ld(o + c, nn);
      xv = vmin(vmax(xv, ov - eps4), ov + eps4);
    }
    if (CLIP) xv = vmin(vmax(xv, vzero()), vset1(1.0f));
    st(x + c, xv, nn);
  }
}

static void movePassAny(float* x, const float* g, const float* xt, const float* o, long d, float eta, float lam, float eps, bool flip,
                        bool prior, bool sign, bool linf, bool clip) {
  const int key = (flip ? 16 : 0) | (prior ? 8 : 0) | (sign ? 4 : 0) | (linf ? 2 : 0) | (clip ? 1 : 0);
  switch (key) {
#define ADVLAB_MOVE(k) \
  case k: movePass<(k & 16) != 0, (k & 8) != 0, (k & 4) != 0, (k & 2) != 0, (k & 1) != 0>(x, g, xt, o, d, eta, lam, eps); break;
    ADVLAB_MOVE(0) ADVLAB_MOVE(1) ADVLAB_MOVE(2) ADVLAB_MOVE(3) ADVLAB_MOVE(4) ADVLAB_MOVE(5) ADVLAB_MOVE(6) ADVLAB_MOVE(7)
    ADVLAB_MOVE(8) ADVLAB_MOVE(9) ADVLAB_MOVE(10) ADVLAB_MOVE(11) ADVLAB_MOVE(12) ADVLAB_MOVE(13) ADVLAB_MOVE(14) ADVLAB_MOVE(15)
    ADVLAB_MOVE(16) ADVLAB_MOVE(17) ADVLAB_MOVE(18) ADVLAB_MOVE(19) ADVLAB_MOVE(20) ADVLAB_MOVE(21) ADVLAB_MOVE(22) ADVLAB_MOVE(23)
    ADVLAB_MOVE(24) ADVLAB_MOVE(25) ADVLAB_MOVE(26) ADVLAB_MOVE(27) ADVLAB_MOVE(28) ADVLAB_MOVE(29) ADVLAB_MOVE(30) ADVLAB_MOVE(31)
#undef ADVLAB_MOVE
  }
}

static float sumSquares(const float* v, long d) {
  vf acc = vzero();
  for (long c = 0; c < d; c += VW) {
    const vf u = ld(v + c, (int)minl(VW, d - c));
    acc = vmadd(u, u, acc);
  }
  return hsum1(acc);
}

/** The step rules and balls that need a norm (L2 step, L2 ball): see moveWithNorms in assembly/kernels.ts. */
static void moveWithNorms(float* x, float* g, const float* xt, const float* o, long d, int rule, float eta, float lam, int ball, float eps,
                          bool flip, bool clip) {
  const vf lam4 = vset1(lam);
  for (long c = 0; c < d; c += VW) {
    const int nn = (int)minl(VW, d - c);
    vf u = ld(g + c, nn);
    if (flip) u = -u;
    if (xt) u = vmadd(lam4, ld(x + c, nn) - ld(xt + c, nn), u);
    st(g + c, u, nn);
  }
  float scale = eta;
  if (rule == STEP_L2) {
    const float norm = sqrtf(sumSquares(g, d));
    scale = norm > 0 ? eta / norm : 0.0f;
  }
  const bool sign = rule == STEP_SIGN, linf = ball == BALL_LINF, clipNow = clip && ball != BALL_L2;
  movePassAny(x, g, nullptr, o, d, scale, 0, eps, false, false, sign, linf, clipNow);
  if (ball == BALL_L2) {
    for (long c = 0; c < d; c += VW) {
      const int nn = (int)minl(VW, d - c);
      st(g + c, ld(x + c, nn) - ld(o + c, nn), nn);
    }
    const float norm = sqrtf(sumSquares(g, d));
    const bool shrink = norm > eps;
    const float f = shrink ? eps / norm : 1.0f;
    const vf f4 = vset1(f);
    for (long c = 0; c < d; c += VW) {
      const int nn = (int)minl(VW, d - c);
      vf xv = shrink ? vmadd(ld(g + c, nn), f4, ld(o + c, nn)) : ld(x + c, nn);
      if (clip) xv = vmin(vmax(xv, vzero()), vset1(1.0f));
      st(x + c, xv, nn);
    }
  }
}

static void moveImage(float* x, float* g, const float* xt, const float* o, long d, int rule, float eta, float lam, int ball, float eps,
                      bool flip, bool clip) {
  if (rule == STEP_L2 || ball == BALL_L2) {
    moveWithNorms(x, g, xt, o, d, rule, eta, lam, ball, eps, flip, clip);
    return;
  }
  movePassAny(x, g, xt, o, d, eta, lam, eps, flip, xt != nullptr, rule == STEP_SIGN, ball == BALL_LINF, clip);
}

static long argmaxOf(const float* p, long n) {
  long best = 0;
  float bv = p[0];
  for (long k = 1; k < n; k++) {
    if (p[k] > bv) {
      bv = p[k];
      best = k;
    }
  }
  return best;
}

// ---------------------------------------------------------------- entry points

static void feedforward(const ForwardJob* J) {
  const NetDesc* net = J->net;
  const int L = net->L;
  const long d = net->layer[0].cols, classes = net->layer[L - 1].rows;
  const GroupLayout lay = advlabGroupLayout(net);
  uint8_t* base = advlabAlign64(J->scratch);
  float* buf[2] = {(float*)(base + lay.ping), (float*)(base + lay.pong)};
  for (long i = J->i0; i < J->i1; i += ADVLAB_GROUP) {
    if (cancelled(J->cancel)) return;
    const long m = minl(ADVLAB_GROUP, J->i1 - i);
    const float* in[ADVLAB_GROUP];
    for (long k = 0; k < m; k++) in[k] = J->images + (i + k) * d;
    for (int l = 0; l < L; l++) {
      const long rows = net->layer[l].rows;
      const Rows out = l == L - 1 ? Rows{J->out + i * classes, classes} : Rows{buf[l & 1], rows};
      forwardLayer(net->layer[l], in, m, out, Rows{nullptr, 0}, 0, rows);
      for (long k = 0; k < m; k++) in[k] = out.row(k);
    }
  }
}

static void gradient(const GradientJob* J) {
  const NetDesc* net = J->net;
  const int L = net->L;
  const long d = net->layer[0].cols, classes = net->layer[L - 1].rows;
  const Group g = groupAt(net, J->scratch);
  uint8_t* goal = g.base + g.lay.goal;
  float* tcot = g.f(g.lay.cot);
  for (long i = J->i0; i < J->i1; i += ADVLAB_GROUP) {
    if (cancelled(J->cancel)) return;
    const long m = minl(ADVLAB_GROUP, J->i1 - i);
    const float* in[ADVLAB_GROUP];
    for (long k = 0; k < m; k++) {
      in[k] = J->images + (i + k) * d;
      goal[k] = J->loss.kind == LOSS_COTANGENT ? 0 : J->labels[i + k];
      if (J->loss.kind == LOSS_COTANGENT) memmove(tcot + k * classes, J->cot + (i + k) * classes, (size_t)classes * 4);
    }
    groupForward(g, in, m);
    groupBackward(g, m, J->loss, Rows{J->gradOut + i * d, d}, J->lossOut ? J->lossOut + i : nullptr);
  }
}

static void descend(const DescentJob* J) {
  const NetDesc* net = J->net;
  const int L = net->L;
  const long d = net->layer[0].cols, classes = net->layer[L - 1].rows;
  const Group g = groupAt(net, J->scratch);
  float* tx = g.f(g.lay.tx);
  float* tt = g.f(g.lay.tt);
  float* to = g.f(g.lay.to);
  float* tg = g.f(g.lay.tg);
  float* tb = g.f(g.lay.tb);
  uint8_t* goal = g.base + g.lay.goal;
  int32_t* done = (int32_t*)(g.base + g.lay.done);
  const bool targeted = J->loss.targeted != 0;
  const size_t inBytes = (size_t)d * 4;
  // The rules without norms move each image inside the first layer's transposed product.
  const bool fused = J->rule != STEP_L2 && J->ball != BALL_L2;
  MoveSpec mv;
  mv.eta = J->eta;
  mv.lam = J->lam;
  mv.eps = J->eps;
  mv.flip = !targeted;
  mv.prior = J->prior != nullptr;
  mv.sign = J->rule == STEP_SIGN;
  mv.linf = J->ball == BALL_LINF;
  mv.clip = J->clip != 0;
  for (long k = 0; k < ADVLAB_GROUP; k++) {
    mv.x[k] = nullptr;
    mv.xt[k] = tt + k * d;
    mv.o[k] = to + k * d;
  }
  for (long i = J->i0; i < J->i1; i += ADVLAB_GROUP) {
    if (cancelled(J->cancel)) return;
    const long m = minl(ADVLAB_GROUP, J->i1 - i);
    const float* in[ADVLAB_GROUP];
    const float* seen[ADVLAB_GROUP];
    for (long k = 0; k < m; k++) {
      memmove(tx + k * d, J->x + (i + k) * d, inBytes);
      if (J->prior) memmove(tt + k * d, J->prior + (i + k) * d, inBytes);
      if (J->origins) memmove(to + k * d, J->origins + (i + k) * d, inBytes);
      goal[k] = J->labels[i + k];
      done[k] = -1;
      in[k] = tx + k * d;
      seen[k] = tb + k * d;
    }
    for (long step = 0; step < J->steps; step++) {
      if (cancelled(J->cancel)) break;
      if (J->thresholded) {
        // The network sees x > threshold ? 1 : 0; the gradient at that image is applied to x (straight through).
        const vf t4 = vset1(J->threshold);
        for (long q = 0; q < m * d; q += VW) {
          const int nn = (int)minl(VW, m * d - q);
          st(tb + q, vsel(ld(tx + q, nn) > t4, vset1(1.0f), vzero()), nn);
        }
      }
      groupForward(g, J->thresholded ? seen : in, m);
      if (J->early) {
        // Images whose forward pass already meets the criterion stop here, before moving.
        const Rows out = g.acts(L - 1);
        long moving = 0;
        for (long k = 0; k < m; k++) {
          if (done[k] >= 0) continue;
          const long predicted = argmaxOf(out.row(k), classes);
          const long label = goal[k];
          if (targeted ? predicted == label : predicted != label) done[k] = (int32_t)step;
          else moving++;
        }
        if (moving == 0) break;
      }
      if (fused) {
        for (long k = 0; k < m; k++) mv.x[k] = done[k] >= 0 ? nullptr : tx + k * d;
        groupBackward(g, m, J->loss, Rows{nullptr, d}, nullptr, &mv);
      } else {
        groupBackward(g, m, J->loss, Rows{tg, d}, nullptr);
        for (long k = 0; k < m; k++) {
          if (done[k] >= 0) continue;
          moveImage(tx + k * d, tg + k * d, J->prior ? tt + k * d : nullptr, to + k * d, d, J->rule, J->eta, J->lam, J->ball, J->eps, !targeted,
                    J->clip != 0);
        }
      }
    }
    for (long k = 0; k < m; k++) {
      memmove(J->x + (i + k) * d, tx + k * d, inBytes);
      if (J->used) J->used[i + k] = done[k] >= 0 ? done[k] : (int32_t)J->steps;
    }
  }
}

// ---------------------------------------------------------------- sgd

/** W[r, c] -= rate * sum_i delta[i, r] x_i[c] for rows r .. r + R, columns c .. c + C VW (the last nlast wide with P). */
template <int R, int C, bool P>
static inline void updTile(float* W, long cols, long r, long c, int nlast, const float* delta, long dStride, const float* const* x, long m,
                           vf rate) {
  vf acc[R * C];
  for (int k = 0; k < R * C; k++) acc[k] = vzero();
  for (long i = 0; i < m; i++) {
    const float* xi = x[i] + c;
    vf xv[C];
    for (int k = 0; k < C; k++) xv[k] = (P && k == C - 1) ? vloadn(xi + k * VW, nlast) : vload(xi + k * VW);
    const float* di = delta + i * dStride + r;
    for (int q = 0; q < R; q++) {
      const vf dv = vset1(di[q]);
      for (int k = 0; k < C; k++) acc[q * C + k] = vmadd(dv, xv[k], acc[q * C + k]);
    }
  }
  for (int q = 0; q < R; q++) {
    float* wr = W + (r + q) * cols + c;
    for (int k = 0; k < C; k++) {
      if (P && k == C - 1) vstoren(wr + k * VW, vloadn(wr + k * VW, nlast) - rate * acc[q * C + k], nlast);
      else vstore(wr + k * VW, vload(wr + k * VW) - rate * acc[q * C + k]);
    }
  }
}

template <int R>
static void updRows(float* W, long cols, long r, const float* delta, long dStride, const float* const* x, long m, vf rate) {
  long c = 0;
  for (; c + UPD_C * VW <= cols; c += UPD_C * VW) updTile<R, UPD_C, false>(W, cols, r, c, VW, delta, dStride, x, m, rate);
  for (; c + VW <= cols; c += VW) updTile<R, 1, false>(W, cols, r, c, VW, delta, dStride, x, m, rate);
  if (c < cols) updTile<R, 1, true>(W, cols, r, c, (int)(cols - c), delta, dStride, x, m, rate);
}

/** Rows [r0, r1) of layer ly: W -= rate * delta^T x over the m examples, and the biases. delta rows: ly.rows numbers. */
static void updateLayer(const LayerDesc& ly, long r0, long r1, long m, const float* delta, const float* const* x, float rate) {
  const vf rate4 = vset1(rate);
  long r = r0;
  for (; r + UPD_R <= r1; r += UPD_R) updRows<UPD_R>(ly.W, ly.cols, r, delta, ly.rows, x, m, rate4);
  for (; r < r1; r++) updRows<1>(ly.W, ly.cols, r, delta, ly.rows, x, m, rate4);
  for (long q = r0; q < r1; q++) {
    float s = 0;
    for (long i = 0; i < m; i++) s += delta[i * ly.rows + q];
    ly.b[q] = ly.b[q] - rate * s;
  }
}

/**
 * Thread 0's part of a mini-batch: the layers above the first forward, the output delta, and
 * backward down to the first layer's deltas, updating every layer above the first.
 * ys: room for m pointers; dT, list: room for maxRows x BACK_I floats and maxRows int32.
 */
static void sgdAbove(const SgdJob* J, long m, const uint8_t* lab, const float** ys, float* dT, int32_t* list) {
  const NetDesc* net = J->net;
  const int L = net->L;
  const long B = J->B;
  long off[ADVLAB_MAX_LAYERS];
  long at = 0;
  for (int l = 0; l < L; l++) {
    off[l] = at;
    at += B * net->layer[l].rows;
  }
  for (int l = 1; l < L; l++) {
    const long rows = net->layer[l].rows, cols = net->layer[l].cols;
    const float* below = J->acts + 2 * off[l - 1];
    for (long i = 0; i < m; i++) ys[i] = below + i * 2 * cols;
    float* a = J->acts + 2 * off[l];
    forwardLayer(net->layer[l], ys, m, Rows{a, 2 * rows}, Rows{a + rows, 2 * rows}, 0, rows);
  }
  const int top = L - 1;
  const long units = net->layer[top].rows;
  float* at2 = J->acts + 2 * off[top];
  outputDelta(Rows{at2, 2 * units}, Rows{at2 + units, 2 * units}, Rows{J->deltas + off[top], units}, lab, Rows{nullptr, 0}, m, units, 0, units,
              net->layer[top].act, J->loss, 0, false, nullptr);
  const float rate = J->eta / (float)m;
  for (int l = top; l >= 1; l--) {
    const LayerDesc& ly = net->layer[l];
    const long rows = ly.rows, cols = ly.cols;
    const Rows dl = {J->deltas + off[l], rows};
    const Rows dn = {J->deltas + off[l - 1], cols};
    float* an = J->acts + 2 * off[l - 1];
    backLayer(ly, dl, m, dn, dT, list);  // with the weights before this batch's update
    for (long i = 0; i < m; i++) timesActPrime(dn.row(i), an + i * 2 * cols, an + i * 2 * cols + cols, cols, net->layer[l - 1].act);
    for (long i = 0; i < m; i++) ys[i] = an + i * 2 * cols;
    updateLayer(ly, 0, rows, m, dl.p, ys, rate);
  }
}

static long splitAt(long n, long t, long T) { return (long)(((int64_t)n * t) / T); }

/**
 * Mini-batch sgd over batches [k0, k1), thread t of T: see sgdRange in assembly/kernels.ts. The
 * first layer is split by units; thread 0 runs the layers above; every thread acts on thread 0's
 * reading of the interrupt word (SGD_STOP), so none is left at a barrier.
 * work: room for 2 B pointers, then maxRows x BACK_I floats and maxRows int32 (from the caller).
 */
static void sgd(const SgdJob* J) {
  void* work = J->work;
  const NetDesc* net = J->net;
  const int L = net->L;
  const LayerDesc& l0 = net->layer[0];
  const long B = J->B, n = J->n, cols0 = l0.cols, rows0 = l0.rows;
  const float** xs = (const float**)work;
  const float** ys = xs + B;
  float* dT = (float*)(ys + B);
  int32_t* list = (int32_t*)(dT + BACK_I * net->maxRows);
  uint8_t* lab = J->scratch;
  const long my0 = splitAt(rows0, J->t, J->T), my1 = splitAt(rows0, J->t + 1, J->T);
  const bool alone = L == 1 && J->loss == LOSS_QUADRATIC;
  for (long k = J->k0; k < J->k1; k++) {
    if (alone && cancelled(J->cancel)) return;
    const long start = k * B;
    const long m = minl(B, n - start);
    if (m <= 0) return;
    for (long i = 0; i < m; i++) {
      uint32_t j = J->order[start + i];
      if ((long)j >= n) j = 0;  // checked before the call; kept in range should the order change during it
      xs[i] = J->images + (long)j * cols0;
      lab[i] = J->labels[j];
    }
    forwardLayer(l0, xs, m, Rows{J->acts, 2 * rows0}, Rows{J->acts + rows0, 2 * rows0}, my0, my1);
    if (alone) {
      outputDelta(Rows{J->acts, 2 * rows0}, Rows{J->acts + rows0, 2 * rows0}, Rows{J->deltas, rows0}, lab, Rows{nullptr, 0}, m, rows0, my0, my1,
                  l0.act, J->loss, 0, false, nullptr);
    } else {
      if (J->t == 0) __atomic_store_n(J->stop, __atomic_load_n(J->cancel, __ATOMIC_ACQUIRE), __ATOMIC_SEQ_CST);
      if (!J->meet(J->barrier, J->T, J->spins, J->cancel)) return;
      if (__atomic_load_n(J->stop, __ATOMIC_SEQ_CST) != 0) return;
      if (J->t == 0) sgdAbove(J, m, lab, ys, dT, list);
      if (!J->meet(J->barrier, J->T, J->spins, J->cancel)) return;
    }
    updateLayer(l0, my0, my1, m, J->deltas, xs, J->eta / (float)m);
  }
}

}  // namespace ADVLAB_NS

extern const KernelTable ADVLAB_TABLE = {ADVLAB_ISA_NAME, ADVLAB_NS::feedforward, ADVLAB_NS::gradient, ADVLAB_NS::descend, ADVLAB_NS::sgd};
