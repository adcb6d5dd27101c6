/**
 * Batched float32 kernels for dense networks (sigmoid, ReLU or identity per layer), compiled to
 * WebAssembly SIMD (f32x4): the forward pass, the loss gradient with respect to the input (and
 * vector-Jacobian products), the fused attack (descent) loop and mini-batch sgd.
 *
 * Every pointer is a byte offset into the one shared memory. The layouts of the network table,
 * the descent program, the sgd context and the loss block, and every code, are declared once in
 * lib/kernels/layout.ts, which the TypeScript side imports too.
 *
 * Determinism: each output number is computed by one fixed sequence of float32 operations
 * (lanes of a dot product accumulate columns c = k mod 4 in order, are summed as
 * (l0 + l1) + (l2 + l3), then the leftover columns are added in order; sums over images or
 * rows run in index order from 0). Tiling, padding and the split between threads only
 * choose which numbers a thread computes, never how, so results do not depend on them.
 */
import {
  ACT_IDENTITY, ACT_RELU, ACT_SIGMOID, BALL_L2, BALL_LINF, BALL_NONE, CANCEL_FLAG, LAYER_ACT, LAYER_B, LAYER_BYTES,
  LAYER_COLS, LAYER_ROWS, LAYER_W, LOSS_BYTES, LOSS_COTANGENT, LOSS_KAPPA, LOSS_KIND, LOSS_MARGIN, LOSS_QUADRATIC,
  LOSS_SOFTMAX_CE, LOSS_TARGETED, NET_FIRST_LAYER, NET_LAYERS, PROG_BALL, PROG_BYTES, PROG_CLIP, PROG_EARLY_STOP,
  PROG_EPS, PROG_LABELS, PROG_LAM, PROG_LOSS, PROG_ORIGINS, PROG_PRIOR, PROG_STEPS, PROG_STEPS_USED, PROG_STEP_RULE,
  PROG_START, PROG_START_EPS, PROG_START_STATE, PROG_STEP_SIZE, PROG_THRESHOLD, PROG_THRESHOLDED, PROG_X, SGD_ACTS, SGD_BARRIER, SGD_BATCH, SGD_DELTAS, SGD_ETA, SGD_IMAGES, SGD_LABELS, SGD_LOSS,
  SGD_N, SGD_ORDER, SGD_SCRATCH, SGD_SCRATCH_BYTES, SGD_SPINS, SGD_STOP, START_UNIFORM_LINF, STEP_GRADIENT, STEP_L2, STEP_SIGN,
} from "../lib/kernels/layout";

// ---------------------------------------------------------------- network table

@inline function layerAt(net: usize, l: i32): usize { return net + NET_FIRST_LAYER + <usize>l * LAYER_BYTES; }
@inline function layers(net: usize): i32 { return load<i32>(net + NET_LAYERS); }
@inline function rowsOf(net: usize, l: i32): i32 { return load<i32>(layerAt(net, l) + LAYER_ROWS); }
@inline function colsOf(net: usize, l: i32): i32 { return load<i32>(layerAt(net, l) + LAYER_COLS); }
@inline function wOf(net: usize, l: i32): usize { return <usize>load<u32>(layerAt(net, l) + LAYER_W); }
@inline function bOf(net: usize, l: i32): usize { return <usize>load<u32>(layerAt(net, l) + LAYER_B); }
@inline function actOf(net: usize, l: i32): i32 { return load<i32>(layerAt(net, l) + LAYER_ACT); }

/** True once an interrupt was asked for (see CANCEL_FLAG in layout.ts). */
@inline function cancelled(): bool { return atomic.load<i32>(CANCEL_FLAG) != 0; }

/** The first unit of thread t's share of n units split into T nearly equal contiguous parts. */
@inline function splitAt(n: i32, t: i32, T: i32): i32 { return <i32>((<i64>n * t) / T); }

@inline function sigmoid(z: f32): f32 { return 1.0 / (1.0 + Mathf.exp(-z)); }

/**
 * Stores a = sigmoid(z) at p and, when omOff != 0, 1 - a = e^-z / (1 + e^-z) at p + omOff.
 * Computing 1 - a from e^-z keeps its relative precision when a is within float32 rounding
 * of 1, where sigmoid'(z) = a (1 - a) would otherwise become exactly 0.
 */
/**
 * Numbers below 1e-30 in magnitude become 0. They change nothing measurable here, but once
 * they reach float32's subnormal range (below 1.2e-38) every multiply that touches them
 * takes a slow path in the processor: saturated units made attacks about 30 % slower.
 */
@inline function flush(v: f32): f32 {
  return Mathf.abs(v) < 1e-30 ? 0 : v;
}

@inline function storeSigmoid(p: usize, z: f32, omOff: usize): void {
  // e = e^-|z| <= 1 never overflows; the smaller of a, 1 - a is e / (1 + e).
  const e = Mathf.exp(-Mathf.abs(z));
  const big: f32 = 1.0 / (1.0 + e);
  const small = flush(e * big);
  store<f32>(p, z >= 0 ? big : small);
  if (omOff != 0) store<f32>(p + omOff, z >= 0 ? small : big);
}

/**
 * Stores a = act(z) at p and, when auxOff != 0, beside it at p + auxOff what the backward
 * pass needs: sigmoid 1 - a (see storeSigmoid), ReLU its 0/1 mask (relu'(0) = 0), identity 1.
 */
@inline function storeAct(p: usize, z: f32, auxOff: usize, act: i32): void {
  if (act == ACT_SIGMOID) {
    storeSigmoid(p, z, auxOff);
  } else if (act == ACT_RELU) {
    const on = z > 0;
    store<f32>(p, on ? z : 0);
    if (auxOff != 0) store<f32>(p + auxOff, on ? <f32>1 : <f32>0);
  } else {
    store<f32>(p, z);
    if (auxOff != 0) store<f32>(p + auxOff, 1);
  }
}

/**
 * acc + a * b, lane by lane: fused (one rounding) in the build with relaxed SIMD (`madd`
 * becomes a hardware FMA where the processor has one), two roundings in the plain build.
 * Every accumulation in this file goes through these two, vector and scalar alike, so a
 * number comes out the same whichever path (vector body or scalar tail) computes it.
 */
@inline function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

@inline function smadd(a: f32, b: f32, acc: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(acc)), 0);
  return acc + a * b;
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// ---------------------------------------------------------------- forward

/**
 * For 4 inputs in_k (cols f32 each) and rows r in [r0, r1):
 * out_k[r] = sigmoid(b[r] + sum_c W[r, c] in_k[c]) (and 1 - that at out_k + omOff + 4r, see
 * storeSigmoid). Rows go two at a time, so each loaded input vector serves two rows and each
 * weight vector four inputs.
 */
function forwardTile(
  W: usize, b: usize, cols: i32, r0: i32, r1: i32, omOff: usize, act: i32,
  in0: usize, in1: usize, in2: usize, in3: usize, out0: usize, out1: usize, out2: usize, out3: usize,
): void {
  const c4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  for (let r = r0; r < r1; r += 2) {
    const two = r + 1 < r1;
    const w0 = W + <usize>r * rowBytes;
    const w1 = two ? w0 + rowBytes : w0;
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
    let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
    for (let c = 0; c < c4; c += 4) {
      const o = <usize>c << 2;
      const v0 = v128.load(w0 + o), v1 = v128.load(w1 + o);
      let x = v128.load(in0 + o);
      a00 = madd(x, v0, a00); a01 = madd(x, v1, a01);
      x = v128.load(in1 + o);
      a10 = madd(x, v0, a10); a11 = madd(x, v1, a11);
      x = v128.load(in2 + o);
      a20 = madd(x, v0, a20); a21 = madd(x, v1, a21);
      x = v128.load(in3 + o);
      a30 = madd(x, v0, a30); a31 = madd(x, v1, a31);
    }
    let s00 = hsum(a00), s01 = hsum(a01), s10 = hsum(a10), s11 = hsum(a11);
    let s20 = hsum(a20), s21 = hsum(a21), s30 = hsum(a30), s31 = hsum(a31);
    for (let c = c4; c < cols; c++) {
      const o = <usize>c << 2;
      const v0 = load<f32>(w0 + o), v1 = load<f32>(w1 + o);
      let x = load<f32>(in0 + o); s00 = smadd(x, v0, s00); s01 = smadd(x, v1, s01);
      x = load<f32>(in1 + o); s10 = smadd(x, v0, s10); s11 = smadd(x, v1, s11);
      x = load<f32>(in2 + o); s20 = smadd(x, v0, s20); s21 = smadd(x, v1, s21);
      x = load<f32>(in3 + o); s30 = smadd(x, v0, s30); s31 = smadd(x, v1, s31);
    }
    const ro = <usize>r << 2;
    const b0 = load<f32>(b + ro);
    storeAct(out0 + ro, s00 + b0, omOff, act); storeAct(out1 + ro, s10 + b0, omOff, act);
    storeAct(out2 + ro, s20 + b0, omOff, act); storeAct(out3 + ro, s30 + b0, omOff, act);
    if (two) {
      const b1 = load<f32>(b + ro + 4);
      storeAct(out0 + ro + 4, s01 + b1, omOff, act); storeAct(out1 + ro + 4, s11 + b1, omOff, act);
      storeAct(out2 + ro + 4, s21 + b1, omOff, act); storeAct(out3 + ro + 4, s31 + b1, omOff, act);
    }
  }
}

/** forwardTile for 2 inputs: the same operations per output number, for short last groups. */
function forwardTile2(
  W: usize, b: usize, cols: i32, r0: i32, r1: i32, omOff: usize, act: i32, in0: usize, in1: usize, out0: usize, out1: usize,
): void {
  const c4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  for (let r = r0; r < r1; r += 2) {
    const two = r + 1 < r1;
    const w0 = W + <usize>r * rowBytes;
    const w1 = two ? w0 + rowBytes : w0;
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
    for (let c = 0; c < c4; c += 4) {
      const o = <usize>c << 2;
      const v0 = v128.load(w0 + o), v1 = v128.load(w1 + o);
      let x = v128.load(in0 + o);
      a00 = madd(x, v0, a00); a01 = madd(x, v1, a01);
      x = v128.load(in1 + o);
      a10 = madd(x, v0, a10); a11 = madd(x, v1, a11);
    }
    let s00 = hsum(a00), s01 = hsum(a01), s10 = hsum(a10), s11 = hsum(a11);
    for (let c = c4; c < cols; c++) {
      const o = <usize>c << 2;
      const v0 = load<f32>(w0 + o), v1 = load<f32>(w1 + o);
      let x = load<f32>(in0 + o); s00 = smadd(x, v0, s00); s01 = smadd(x, v1, s01);
      x = load<f32>(in1 + o); s10 = smadd(x, v0, s10); s11 = smadd(x, v1, s11);
    }
    const ro = <usize>r << 2;
    const b0 = load<f32>(b + ro);
    storeAct(out0 + ro, s00 + b0, omOff, act); storeAct(out1 + ro, s10 + b0, omOff, act);
    if (two) {
      const b1 = load<f32>(b + ro + 4);
      storeAct(out0 + ro + 4, s01 + b1, omOff, act); storeAct(out1 + ro + 4, s11 + b1, omOff, act);
    }
  }
}

/**
 * Layer l forward for n inputs whose row pointers are the u32 table `inPtrs`, rows [r0, r1).
 * Without `withOm`: out[i * rows + r] = a. With it, output rows are 2 x rows long: a, then
 * 1 - a. Inputs go four at a time; a short last group repeats its first input and writes the
 * spare results to `spare` (2 x rows f32).
 */
function forwardLayer(net: usize, l: i32, inPtrs: usize, n: i32, out: usize, r0: i32, r1: i32, spare: usize, withOm: bool): void {
  const rows = rowsOf(net, l), cols = colsOf(net, l);
  const W = wOf(net, l), b = bOf(net, l), act = actOf(net, l);
  const omOff: usize = withOm ? <usize>rows << 2 : 0;
  const stride = withOm ? <usize>rows << 3 : <usize>rows << 2;
  for (let i = 0; i < n; i += 4) {
    const p0 = <usize>load<u32>(inPtrs + (<usize>i << 2));
    const p1 = i + 1 < n ? <usize>load<u32>(inPtrs + (<usize>(i + 1) << 2)) : p0;
    if (n - i <= 2) {
      // A last group of one or two (e.g. the 9th and 10th image of a mini-batch of 10).
      const o0 = out + <usize>i * stride;
      forwardTile2(W, b, cols, r0, r1, omOff, act, p0, p1, o0, i + 1 < n ? o0 + stride : spare);
      break;
    }
    const p2 = i + 2 < n ? <usize>load<u32>(inPtrs + (<usize>(i + 2) << 2)) : p0;
    const p3 = i + 3 < n ? <usize>load<u32>(inPtrs + (<usize>(i + 3) << 2)) : p0;
    const o0 = out + <usize>i * stride;
    forwardTile(W, b, cols, r0, r1, omOff, act, p0, p1, p2, p3, o0,
      i + 1 < n ? o0 + stride : spare, i + 2 < n ? o0 + 2 * stride : spare, i + 3 < n ? o0 + 3 * stride : spare);
  }
}

// ---------------------------------------------------------------- backward

/**
 * For 4 deltas d_k (rows f32 each) and columns c in [c0, c1): g_k[c] = sum_r d_k[r] W[r, c],
 * the transposed product that carries a gradient one layer down. Columns go eight at a time.
 */
function backTile(
  W: usize, rows: i32, cols: i32, c0: i32, c1: i32,
  d0: usize, d1: usize, d2: usize, d3: usize, g0: usize, g1: usize, g2: usize, g3: usize,
): void {
  const rowBytes = <usize>cols << 2;
  let c = c0;
  for (; c + 8 <= c1; c += 8) {
    const o = <usize>c << 2;
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
    let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
    let w = W + o;
    for (let r = 0; r < rows; r++) {
      const v0 = v128.load(w), v1 = v128.load(w, 16);
      const ro = <usize>r << 2;
      let d = v128.load32_splat(d0 + ro);
      a00 = madd(d, v0, a00); a01 = madd(d, v1, a01);
      d = v128.load32_splat(d1 + ro);
      a10 = madd(d, v0, a10); a11 = madd(d, v1, a11);
      d = v128.load32_splat(d2 + ro);
      a20 = madd(d, v0, a20); a21 = madd(d, v1, a21);
      d = v128.load32_splat(d3 + ro);
      a30 = madd(d, v0, a30); a31 = madd(d, v1, a31);
      w += rowBytes;
    }
    v128.store(g0 + o, a00); v128.store(g0 + o, a01, 16);
    v128.store(g1 + o, a10); v128.store(g1 + o, a11, 16);
    v128.store(g2 + o, a20); v128.store(g2 + o, a21, 16);
    v128.store(g3 + o, a30); v128.store(g3 + o, a31, 16);
  }
  for (; c + 4 <= c1; c += 4) {
    const o = <usize>c << 2;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let w = W + o;
    for (let r = 0; r < rows; r++) {
      const v = v128.load(w);
      const ro = <usize>r << 2;
      a0 = madd(v128.load32_splat(d0 + ro), v, a0);
      a1 = madd(v128.load32_splat(d1 + ro), v, a1);
      a2 = madd(v128.load32_splat(d2 + ro), v, a2);
      a3 = madd(v128.load32_splat(d3 + ro), v, a3);
      w += rowBytes;
    }
    v128.store(g0 + o, a0); v128.store(g1 + o, a1); v128.store(g2 + o, a2); v128.store(g3 + o, a3);
  }
  for (; c < c1; c++) {
    const o = <usize>c << 2;
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    let w = W + o;
    for (let r = 0; r < rows; r++) {
      const v = load<f32>(w);
      const ro = <usize>r << 2;
      s0 = smadd(load<f32>(d0 + ro), v, s0); s1 = smadd(load<f32>(d1 + ro), v, s1);
      s2 = smadd(load<f32>(d2 + ro), v, s2); s3 = smadd(load<f32>(d3 + ro), v, s3);
      w += rowBytes;
    }
    store<f32>(g0 + o, s0); store<f32>(g1 + o, s1); store<f32>(g2 + o, s2); store<f32>(g3 + o, s3);
  }
}

/**
 * The output layer's delta dL/dz for n images, units k in [k0, k1). Rows of `a` are 2 x units
 * (a, then what the backward pass needs, see storeAct); delta rows are units long. dL/da comes
 * from the loss at labels[i] (kind, kappa, targeted as in LossSpec) or, for LOSS_COTANGENT,
 * from the caller's row cot + 4 i units; it is then chained through the output activation.
 * Losses that need the whole row (softmax cross-entropy, margin, cotangent) take k0 = 0,
 * k1 = units. With lossOut != 0 the loss of image i goes to lossOut + 4 i (whole rows only).
 * A label is only ever compared with unit numbers, or checked against `units` before it
 * addresses a row, so a bad label cannot reach past the row.
 */
function outputDelta(
  a: usize, delta: usize, labels: usize, cot: usize, n: i32, units: i32, k0: i32, k1: i32,
  act: i32, kind: i32, kappa: f32, targeted: bool, lossOut: usize,
): void {
  const auxOff = <usize>units << 2;
  for (let i = 0; i < n; i++) {
    const label = kind == LOSS_COTANGENT ? -1 : <i32>load<u8>(labels + <usize>i);
    const row = a + (<usize>i * units << 3);
    const drow = delta + (<usize>i * units << 2);
    let value: f32 = 0;
    // dL/da into drow.
    if (kind == LOSS_QUADRATIC) {
      // 1/2 ||a - onehot(y)||^2; for sigmoid a - 1 is taken as -(1 - a), exact where a rounds to 1.
      for (let k = k0; k < k1; k++) {
        const o = <usize>k << 2;
        const ak = load<f32>(row + o);
        const diff = k == label ? (act == ACT_SIGMOID ? -load<f32>(row + auxOff + o) : ak - 1) : ak;
        store<f32>(drow + o, diff);
        value = smadd(diff, diff, value);
      }
      value *= 0.5;
    } else if (kind == LOSS_SOFTMAX_CE) {
      // logsumexp(a) - a_y, the largest output subtracted first; dL/da = softmax(a) - onehot(y).
      let mx = load<f32>(row), ay: f32 = 0;
      for (let k = 0; k < units; k++) {
        const ak = load<f32>(row + (<usize>k << 2));
        if (ak > mx) mx = ak;
        if (k == label) ay = ak;
      }
      let sum: f32 = 0;
      for (let k = 0; k < units; k++) {
        const o = <usize>k << 2;
        const e = Mathf.exp(load<f32>(row + o) - mx);
        store<f32>(drow + o, e);
        sum += e;
      }
      value = (mx + Mathf.log(sum)) - ay;
      for (let k = 0; k < units; k++) {
        const o = <usize>k << 2;
        const p = load<f32>(drow + o) / sum;
        store<f32>(drow + o, k == label ? p - 1 : p);
      }
    } else if (kind == LOSS_MARGIN) {
      // m = a_j* - a_y, j* the first largest other output; clamped at kappa with zero gradient.
      let ay: f32 = 0, aj: f32 = 0, j = -1;
      for (let k = 0; k < units; k++) {
        const ak = load<f32>(row + (<usize>k << 2));
        store<f32>(drow + (<usize>k << 2), 0);
        if (k == label) ay = ak;
        else if (j < 0 || ak > aj) { j = k; aj = ak; }
      }
      if (j >= 0) {
        const m = aj - ay;
        const clamped = targeted ? m < -kappa : m > kappa;
        if (clamped) {
          value = targeted ? -kappa : kappa;
        } else {
          value = m;
          store<f32>(drow + (<usize>j << 2), 1);
          if (label >= 0 && label < units) store<f32>(drow + (<usize>label << 2), -1);
        }
      }
    } else {
      memory.copy(drow, cot + (<usize>i * units << 2), <usize>units << 2);
    }
    // Chained through the output activation: dL/dz = dL/da * act'(z).
    if (act == ACT_SIGMOID) {
      for (let k = k0; k < k1; k++) {
        const o = <usize>k << 2;
        store<f32>(drow + o, flush(load<f32>(drow + o) * load<f32>(row + o) * load<f32>(row + auxOff + o)));
      }
    } else if (act == ACT_RELU) {
      for (let k = k0; k < k1; k++) {
        const o = <usize>k << 2;
        store<f32>(drow + o, load<f32>(drow + o) * load<f32>(row + auxOff + o));
      }
    }
    if (lossOut != 0) store<f32>(lossOut + (<usize>i << 2), value);
  }
}

/**
 * g[c] *= act'(z[c]) for c in [c0, c1): dL/da into dL/dz. `a` is a 2 x units row (a, then
 * sigmoid's 1 - a or ReLU's mask); identity leaves g as it is.
 */
@inline function timesActPrime(g: usize, a: usize, units: i32, c0: i32, c1: i32, act: i32): void {
  const auxOff = <usize>units << 2;
  if (act == ACT_SIGMOID) {
    for (let c = c0; c < c1; c++) {
      const o = <usize>c << 2;
      store<f32>(g + o, flush(load<f32>(g + o) * (load<f32>(a + o) * load<f32>(a + auxOff + o))));
    }
  } else if (act == ACT_RELU) {
    for (let c = c0; c < c1; c++) {
      const o = <usize>c << 2;
      store<f32>(g + o, load<f32>(g + o) * load<f32>(a + auxOff + o));
    }
  }
}

// ---------------------------------------------------------------- sgd update

/**
 * Columns [c0, c1) of rows r and r + 1 in blocks of 16, both rows sharing each loaded input
 * vector: W[r, c] -= rate * sum_i delta[i, r] in_i[c]. Returns the first column not done.
 */
function updateTwoRows(
  w0: usize, w1: usize, dr: usize, dStride: usize, c0: i32, c1: i32, n: i32, inPtrs: usize, rate4: v128,
): i32 {
  let c = c0;
  for (; c + 16 <= c1; c += 16) {
    const o = <usize>c << 2;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    for (let i = 0; i < n; i++) {
      const dp = dr + <usize>i * dStride;
      const d = v128.load32_splat(dp), e = v128.load32_splat(dp, 4);
      const x = <usize>load<u32>(inPtrs + (<usize>i << 2)) + o;
      const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
      a0 = madd(d, x0, a0); a1 = madd(d, x1, a1); a2 = madd(d, x2, a2); a3 = madd(d, x3, a3);
      b0 = madd(e, x0, b0); b1 = madd(e, x1, b1); b2 = madd(e, x2, b2); b3 = madd(e, x3, b3);
    }
    v128.store(w0 + o, f32x4.sub(v128.load(w0 + o), f32x4.mul(rate4, a0)));
    v128.store(w0 + o, f32x4.sub(v128.load(w0 + o, 16), f32x4.mul(rate4, a1)), 16);
    v128.store(w0 + o, f32x4.sub(v128.load(w0 + o, 32), f32x4.mul(rate4, a2)), 32);
    v128.store(w0 + o, f32x4.sub(v128.load(w0 + o, 48), f32x4.mul(rate4, a3)), 48);
    v128.store(w1 + o, f32x4.sub(v128.load(w1 + o), f32x4.mul(rate4, b0)));
    v128.store(w1 + o, f32x4.sub(v128.load(w1 + o, 16), f32x4.mul(rate4, b1)), 16);
    v128.store(w1 + o, f32x4.sub(v128.load(w1 + o, 32), f32x4.mul(rate4, b2)), 32);
    v128.store(w1 + o, f32x4.sub(v128.load(w1 + o, 48), f32x4.mul(rate4, b3)), 48);
  }
  return c;
}

/** Columns [c, c1) of one row (w, its deltas at dr): blocks of 16, of 4, then one by one. */
function updateRowFrom(w: usize, dr: usize, dStride: usize, c: i32, c1: i32, n: i32, inPtrs: usize, rate: f32): void {
  const rate4 = f32x4.splat(rate);
  for (; c + 16 <= c1; c += 16) {
    const o = <usize>c << 2;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let i = 0; i < n; i++) {
      const d = v128.load32_splat(dr + <usize>i * dStride);
      const x = <usize>load<u32>(inPtrs + (<usize>i << 2)) + o;
      a0 = madd(d, v128.load(x), a0);
      a1 = madd(d, v128.load(x, 16), a1);
      a2 = madd(d, v128.load(x, 32), a2);
      a3 = madd(d, v128.load(x, 48), a3);
    }
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(rate4, a0)));
    v128.store(w + o, f32x4.sub(v128.load(w + o, 16), f32x4.mul(rate4, a1)), 16);
    v128.store(w + o, f32x4.sub(v128.load(w + o, 32), f32x4.mul(rate4, a2)), 32);
    v128.store(w + o, f32x4.sub(v128.load(w + o, 48), f32x4.mul(rate4, a3)), 48);
  }
  for (; c + 4 <= c1; c += 4) {
    const o = <usize>c << 2;
    let a0 = f32x4.splat(0);
    for (let i = 0; i < n; i++) {
      const d = v128.load32_splat(dr + <usize>i * dStride);
      a0 = madd(d, v128.load(<usize>load<u32>(inPtrs + (<usize>i << 2)) + o), a0);
    }
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(rate4, a0)));
  }
  for (; c < c1; c++) {
    const o = <usize>c << 2;
    let s: f32 = 0;
    for (let i = 0; i < n; i++) s = smadd(load<f32>(dr + <usize>i * dStride), load<f32>(<usize>load<u32>(inPtrs + (<usize>i << 2)) + o), s);
    store<f32>(w + o, load<f32>(w + o) - rate * s);
  }
}

/**
 * W[r, c] -= rate * sum_i delta[i, r] in_i[c] for r in [r0, r1), c in [c0, c1), and, when
 * `withBias`, b[r] -= rate * sum_i delta[i, r]; i runs over the batch's n examples in order.
 */
function updateLayer(
  W: usize, b: usize, rows: i32, cols: i32, r0: i32, r1: i32, c0: i32, c1: i32,
  n: i32, delta: usize, inPtrs: usize, rate: f32, withBias: bool,
): void {
  const rowBytes = <usize>cols << 2;
  const rate4 = f32x4.splat(rate);
  const dStride = <usize>rows << 2;
  let r = r0;
  for (; r + 1 < r1; r += 2) {
    const w = W + <usize>r * rowBytes, dr = delta + (<usize>r << 2);
    const c = updateTwoRows(w, w + rowBytes, dr, dStride, c0, c1, n, inPtrs, rate4);
    updateRowFrom(w, dr, dStride, c, c1, n, inPtrs, rate);
    updateRowFrom(w + rowBytes, dr + 4, dStride, c, c1, n, inPtrs, rate);
  }
  if (r < r1) updateRowFrom(W + <usize>r * rowBytes, delta + (<usize>r << 2), dStride, c0, c1, n, inPtrs, rate);
  if (withBias) {
    for (let q = r0; q < r1; q++) {
      let s: f32 = 0;
      for (let i = 0; i < n; i++) s += load<f32>(delta + (<usize>q << 2) + <usize>i * dStride);
      store<f32>(b + (<usize>q << 2), load<f32>(b + (<usize>q << 2)) - rate * s);
    }
  }
}

// ---------------------------------------------------------------- barrier


/** All T threads meet here. bar: i32 count, i32 generation. Spins briefly, then sleeps. */
// Node 20's baseline wasm code (Liftoff) was measured to lose float locals of the caller
// that live across a call that waits here (test/kernels.test.ts catches it); so callers keep
// no float local across a barrier (sgdRange re-reads eta from memory), and this stays a call.
@noinline function barrier(bar: usize, T: i32, spinLimit: i32): void {
  if (T <= 1) return;
  const genAt = bar + 4;
  const gen = atomic.load<i32>(genAt);
  if (atomic.add<i32>(bar, 1) == T - 1) {
    atomic.store<i32>(bar, 0);
    atomic.add<i32>(genAt, 1);
    atomic.notify(genAt, T);
  } else {
    let spins = 0;
    while (atomic.load<i32>(genAt) == gen) {
      if (++spins > spinLimit) atomic.wait<i32>(genAt, gen, -1);
    }
  }
}

// ---------------------------------------------------------------- groups of four images

/**
 * Where the parts of a group scratch start: a header of GROUP_HEADER bytes at the start of the
 * scratch itself (an unmanaged class placed there, so nothing is allocated on a heap, which the
 * threads' separate instances would share).
 */
@unmanaged class GroupScratch {
  tx: usize; tt: usize; to: usize; tg: usize; tb: usize;
  tgoal: usize; tcot: usize; tloss: usize; tdone: usize; ptrs: usize; spare: usize;
  acts: usize; deltas: usize; total: usize;
}
const GROUP_HEADER: usize = 64;

/** Bytes of 4 rows of every layer's units (the deltas of a group; activations take twice that). */
function groupTotal(net: usize): usize {
  let total: usize = 0;
  for (let l = 0; l < layers(net); l++) total += <usize>rowsOf(net, l) << 4;
  return total;
}

@inline function maxRowsOf(net: usize): i32 {
  let maxRows = 0;
  for (let l = 0; l < layers(net); l++) maxRows = max(maxRows, rowsOf(net, l));
  return maxRows;
}

/**
 * Scratch layout of a group: images tile x, prior tile, origins tile, gradient tile, binarised
 * tile (4 input rows each), labels (4 bytes), cotangents (4 output rows), losses (4 f32), steps used (4 i32),
 * pointer table (4 u32), a spare row, then per layer 4 activation rows (a and its aux: 2 x
 * units) and 4 delta rows.
 */
function groupScratchAt(net: usize, scratch: usize): GroupScratch {
  const L = layers(net);
  const inBytes = <usize>colsOf(net, 0) << 2;
  const outBytes = <usize>rowsOf(net, L - 1) << 2;
  const g = changetype<GroupScratch>(scratch);
  g.tx = scratch + GROUP_HEADER;
  g.tt = g.tx + 4 * inBytes;
  g.to = g.tt + 4 * inBytes;
  g.tg = g.to + 4 * inBytes;
  g.tb = g.tg + 4 * inBytes;
  g.tgoal = g.tb + 4 * inBytes;
  g.tcot = g.tgoal + 16;
  g.tloss = g.tcot + ((4 * outBytes + 15) & ~15);
  g.tdone = g.tloss + 16;
  g.ptrs = g.tdone + 16;
  g.spare = g.ptrs + 16;
  g.acts = g.spare + (<usize>maxRowsOf(net) << 3);
  g.total = groupTotal(net);
  g.deltas = g.acts + 2 * g.total;
  return g;
}

/** Bytes of per-thread scratch `gradientRange` and `descendRange` need for this network. */
export function groupScratchBytes(net: usize): i32 {
  const L = layers(net);
  const inBytes = colsOf(net, 0) << 2, outBytes = rowsOf(net, L - 1) << 2;
  return <i32>GROUP_HEADER + 20 * inBytes + 64 + ((4 * outBytes + 15) & ~15) + (maxRowsOf(net) << 3) + 3 * <i32>groupTotal(net) + 64;
}

/** Forward through every layer for the 4 inputs the pointer table `ptrs` names, keeping a and its aux per layer. */
function groupForward(net: usize, g: GroupScratch): void {
  const L = layers(net);
  const ptrs = g.ptrs;
  let a = g.acts;
  for (let l = 0; l < L; l++) {
    const rows = rowsOf(net, l);
    forwardLayer(net, l, ptrs, 4, a, 0, rows, g.spare, true);
    for (let k = 0; k < 4; k++) store<u32>(ptrs + (<usize>k << 2), <u32>(a + <usize>k * (<usize>rows << 3)));
    a += <usize>rows << 5;
  }
}

/** The output rows (2 x classes f32 each: a, aux) of a group after groupForward. */
@inline function groupOutputs(net: usize, g: GroupScratch): usize {
  return g.acts + 2 * g.total - (<usize>rowsOf(net, layers(net) - 1) << 5);
}

/**
 * Backward after groupForward: the loss at the labels in g.tgoal (or the cotangents in g.tcot)
 * into the output deltas, losses into g.tloss, then down layer by layer; the last product,
 * dL/dx of image k, goes to gk.
 */
function groupBackward(net: usize, g: GroupScratch, kind: i32, kappa: f32, targeted: bool,
  g0: usize, g1: usize, g2: usize, g3: usize): void {
  const L = layers(net);
  const acts = g.acts, deltas = g.deltas;
  let aOff: usize = 2 * g.total, dOff: usize = g.total;
  let rows = rowsOf(net, L - 1);
  aOff -= <usize>rows << 5; dOff -= <usize>rows << 4;
  outputDelta(acts + aOff, deltas + dOff, g.tgoal, g.tcot, 4, rows, 0, rows, actOf(net, L - 1), kind, kappa, targeted, g.tloss);
  for (let l = L - 1; l >= 0; l--) {
    rows = rowsOf(net, l);
    const cols = colsOf(net, l);
    const rb = <usize>rows << 2, cb = <usize>cols << 2;
    const d = deltas + dOff;
    if (l == 0) {
      backTile(wOf(net, 0), rows, cols, 0, cols, d, d + rb, d + 2 * rb, d + 3 * rb, g0, g1, g2, g3);
    } else {
      const below = <usize>cols << 4;
      const dn = deltas + dOff - below, an = acts + aOff - 2 * below;
      const act = actOf(net, l - 1);
      backTile(wOf(net, l), rows, cols, 0, cols, d, d + rb, d + 2 * rb, d + 3 * rb, dn, dn + cb, dn + 2 * cb, dn + 3 * cb);
      for (let k = 0; k < 4; k++) timesActPrime(dn + <usize>k * cb, an + <usize>k * 2 * cb, cols, 0, cols, act);
      dOff -= below; aOff -= 2 * below;
    }
  }
}

// ---------------------------------------------------------------- one attack step on one image

@inline function signOf(u: v128): v128 {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  return f32x4.sub(v128.and(f32x4.gt(u, zero), one), v128.and(f32x4.lt(u, zero), one));
}

@inline function signOfScalar(u: f32): f32 {
  return u > 0 ? <f32>1 : (u < 0 ? <f32>-1 : <f32>0);
}

/**
 * One pass over image x (d f32), its gradient g, prior target xt and ball centre o:
 * u = (flip ? -g : g) + lam (x - xt) (the negated direction; the prior as madd), then
 * x -= eta * u (or eta * sign(u)), projected into the L-inf ball of radius eps around o,
 * clipped to [0, 1]. Inlined with constant flags for the common programs.
 */
@inline function movePass(x: usize, g: usize, xt: usize, o: usize, d: i32, eta: f32, lam: f32, eps: f32,
  flip: bool, prior: bool, sign: bool, linf: bool, clip: bool): void {
  const c4 = d & ~3;
  const eta4 = f32x4.splat(eta), lam4 = f32x4.splat(lam), eps4 = f32x4.splat(eps);
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (let c = 0; c < c4; c += 4) {
    const off = <usize>c << 2;
    let xv = v128.load(x + off);
    let u = v128.load(g + off);
    if (flip) u = f32x4.neg(u);
    if (prior) u = madd(lam4, f32x4.sub(xv, v128.load(xt + off)), u);
    xv = f32x4.sub(xv, f32x4.mul(eta4, sign ? signOf(u) : u));
    if (linf) {
      const ov = v128.load(o + off);
      xv = clampInto(xv, f32x4.sub(ov, eps4), f32x4.add(ov, eps4));
    }
    if (clip) xv = clampInto(xv, zero, one);
    v128.store(x + off, xv);
  }
  for (let c = c4; c < d; c++) {
    const off = <usize>c << 2;
    let xs = load<f32>(x + off);
    let u = load<f32>(g + off);
    if (flip) u = -u;
    if (prior) u = smadd(lam, xs - load<f32>(xt + off), u);
    xs = xs - eta * (sign ? signOfScalar(u) : u);
    if (linf) {
      const os = load<f32>(o + off);
      xs = clampScalar(xs, os - eps, os + eps);
    }
    if (clip) xs = clampScalar(xs, 0, 1);
    store<f32>(x + off, xs);
  }
}

/**
 * x raised to lo, then lowered to hi, lane by lane: (x < lo ? lo : x), then (hi < y ? hi : y).
 * A NaN x stays NaN (the caller reports divergence). Pseudo-min/max are one instruction each;
 * f32x4.min/max, which also order -0 below +0, take several.
 */
@inline function clampInto(x: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(x, lo), hi);
}

/** clampInto for one number, with the same comparisons. */
@inline function clampScalar(x: f32, lo: f32, hi: f32): f32 {
  const y = x < lo ? lo : x;
  return hi < y ? hi : y;
}

function movePassAny(x: usize, g: usize, xt: usize, o: usize, d: i32, eta: f32, lam: f32, eps: f32,
  flip: bool, prior: bool, sign: bool, linf: bool, clip: bool): void {
  movePass(x, g, xt, o, d, eta, lam, eps, flip, prior, sign, linf, clip);
}

/** Sum of squares of row v (d f32), lanes then the leftover columns in order. */
function sumSquares(v: usize, d: i32): f32 {
  const c4 = d & ~3;
  let acc = f32x4.splat(0);
  for (let c = 0; c < c4; c += 4) { const u = v128.load(v + (<usize>c << 2)); acc = madd(u, u, acc); }
  let s = hsum(acc);
  for (let c = c4; c < d; c++) { const u = load<f32>(v + (<usize>c << 2)); s = smadd(u, u, s); }
  return s;
}

/**
 * The step rules and balls that need a norm over the image (L2 step, L2 ball): u into g first,
 * then x -= scale * step(u), then the ball, then the clip.
 */
function moveWithNorms(x: usize, g: usize, xt: usize, o: usize, d: i32, rule: i32, eta: f32, lam: f32,
  ball: i32, eps: f32, flip: bool, clip: bool): void {
  const c4 = d & ~3;
  const lam4 = f32x4.splat(lam), zero = f32x4.splat(0), one = f32x4.splat(1);
  for (let c = 0; c < c4; c += 4) {
    const off = <usize>c << 2;
    let u = v128.load(g + off);
    if (flip) u = f32x4.neg(u);
    if (xt != 0) u = madd(lam4, f32x4.sub(v128.load(x + off), v128.load(xt + off)), u);
    v128.store(g + off, u);
  }
  for (let c = c4; c < d; c++) {
    const off = <usize>c << 2;
    let u = load<f32>(g + off);
    if (flip) u = -u;
    if (xt != 0) u = smadd(lam, load<f32>(x + off) - load<f32>(xt + off), u);
    store<f32>(g + off, u);
  }
  let scale = eta;
  if (rule == STEP_L2) {
    const norm = Mathf.sqrt(sumSquares(g, d));
    scale = norm > 0 ? eta / norm : 0;
  }
  const sign = rule == STEP_SIGN, linf = ball == BALL_LINF, clipNow = clip && ball != BALL_L2;
  movePassAny(x, g, 0, o, d, scale, 0, eps, false, false, sign, linf, clipNow);
  if (ball == BALL_L2) {
    // x = o + (x - o) min(1, eps / ||x - o||), then the clip; g holds x - o meanwhile.
    for (let c = 0; c < c4; c += 4) {
      const off = <usize>c << 2;
      v128.store(g + off, f32x4.sub(v128.load(x + off), v128.load(o + off)));
    }
    for (let c = c4; c < d; c++) {
      const off = <usize>c << 2;
      store<f32>(g + off, load<f32>(x + off) - load<f32>(o + off));
    }
    const norm = Mathf.sqrt(sumSquares(g, d));
    const shrink = norm > eps;
    const f = shrink ? eps / norm : <f32>1;
    const f4 = f32x4.splat(f);
    for (let c = 0; c < c4; c += 4) {
      const off = <usize>c << 2;
      let xv = shrink ? madd(v128.load(g + off), f4, v128.load(o + off)) : v128.load(x + off);
      if (clip) xv = clampInto(xv, zero, one);
      v128.store(x + off, xv);
    }
    for (let c = c4; c < d; c++) {
      const off = <usize>c << 2;
      let xs = shrink ? smadd(load<f32>(g + off), f, load<f32>(o + off)) : load<f32>(x + off);
      if (clip) xs = clampScalar(xs, 0, 1);
      store<f32>(x + off, xs);
    }
  }
}

/** One step of image x: see DescentProgram (d = -(u) with u as in movePass). */
function moveImage(x: usize, g: usize, xt: usize, o: usize, d: i32, rule: i32, eta: f32, lam: f32,
  ball: i32, eps: f32, flip: bool, clip: bool): void {
  if (rule == STEP_L2 || ball == BALL_L2) {
    moveWithNorms(x, g, xt, o, d, rule, eta, lam, ball, eps, flip, clip);
    return;
  }
  const sign = rule == STEP_SIGN, linf = ball == BALL_LINF, prior = xt != 0;
  if (!flip && !sign && !linf && !clip) {
    // The article's attacks.
    if (prior) movePass(x, g, xt, o, d, eta, lam, eps, false, true, false, false, false);
    else movePass(x, g, xt, o, d, eta, lam, eps, false, false, false, false, false);
  } else if (sign && linf && clip && !prior) {
    // PGD L-inf.
    if (flip) movePass(x, g, xt, o, d, eta, lam, eps, true, false, true, true, true);
    else movePass(x, g, xt, o, d, eta, lam, eps, false, false, true, true, true);
  } else {
    movePassAny(x, g, xt, o, d, eta, lam, eps, flip, prior, sign, linf, clip);
  }
}

/** The index of the largest of n numbers at p (the first on ties). */
function argmaxOf(p: usize, n: i32): i32 {
  let best = 0;
  let bv = load<f32>(p);
  for (let k = 1; k < n; k++) {
    const v = load<f32>(p + (<usize>k << 2));
    if (v > bv) { bv = v; best = k; }
  }
  return best;
}

// ---------------------------------------------------------------- entry points

/**
 * Forward pass of images [i0, i1) of `n` (input rows at `images`, sizes[0] f32 each) through
 * the whole network; output rows to `out` (sizes[L] f32 each). `scratch` holds, per layer,
 * 4 rows of activations plus a spare row, and a u32 pointer table of 4.
 */
export function feedforwardRange(net: usize, images: usize, i0: i32, i1: i32, out: usize, scratch: usize): void {
  const L = layers(net);
  const inBytes = <usize>colsOf(net, 0) << 2;
  const outBytes = <usize>rowsOf(net, L - 1) << 2;
  const maxRows = maxRowsOf(net);
  const ptrs = scratch;
  const spare = scratch + 16;
  const buf = spare + (<usize>maxRows << 3);
  for (let i = i0; i < i1; i += 4) {
    if (cancelled()) return;
    const m = min(4, i1 - i);
    for (let k = 0; k < 4; k++) store<u32>(ptrs + (<usize>k << 2), <u32>(images + <usize>(i + min(k, m - 1)) * inBytes));
    let cur = buf;
    for (let l = 0; l < L; l++) {
      const rows = rowsOf(net, l);
      const dst = l == L - 1 ? out + <usize>i * outBytes : cur;
      forwardLayer(net, l, ptrs, m, dst, 0, rows, spare, false);
      for (let k = 0; k < 4; k++) store<u32>(ptrs + (<usize>k << 2), <u32>(dst + <usize>min(k, m - 1) * (<usize>rows << 2)));
      cur += <usize>rows << 4;
    }
  }
}

/**
 * Per-image loss and d loss / d x for images [i0, i1) at `images` (sizes[0] f32 each). `loss`
 * is a loss block (layout.ts); labels (u8 each) are read unless its kind is LOSS_COTANGENT,
 * which reads `cot` (sizes[L] f32 per image) instead. Writes losses (f32) to lossOut when it
 * is not 0 and gradients (sizes[0] f32 per image) to gradOut. Images go four at a time; a
 * short last group repeats its first image into spare rows. scratch: groupScratchBytes.
 */
export function gradientRange(
  net: usize, loss: usize, images: usize, labels: usize, cot: usize, i0: i32, i1: i32, lossOut: usize, gradOut: usize,
  scratch: usize,
): void {
  const L = layers(net);
  const inBytes = <usize>colsOf(net, 0) << 2;
  const classes = rowsOf(net, L - 1);
  const outBytes = <usize>classes << 2;
  const kind = load<i32>(loss + LOSS_KIND);
  const kappa = load<f32>(loss + LOSS_KAPPA);
  const targeted = load<i32>(loss + LOSS_TARGETED) != 0;
  const g = groupScratchAt(net, scratch);
  for (let i = i0; i < i1; i += 4) {
    if (cancelled()) return;
    const m = min(4, i1 - i);
    for (let k = 0; k < 4; k++) {
      const src = <usize>(k < m ? i + k : i);
      store<u32>(g.ptrs + (<usize>k << 2), <u32>(images + src * inBytes));
      store<u8>(g.tgoal + <usize>k, kind == LOSS_COTANGENT ? 0 : load<u8>(labels + src));
      if (kind == LOSS_COTANGENT) memory.copy(g.tcot + <usize>k * outBytes, cot + src * outBytes, outBytes);
    }
    groupForward(net, g);
    const o0 = gradOut + <usize>i * inBytes;
    groupBackward(net, g, kind, kappa, targeted, o0, m > 1 ? o0 + inBytes : g.tg + inBytes,
      m > 2 ? o0 + 2 * inBytes : g.tg + 2 * inBytes, m > 3 ? o0 + 3 * inBytes : g.tg + 3 * inBytes);
    if (lossOut != 0) memory.copy(lossOut + (<usize>i << 2), g.tloss, <usize>m << 2);
  }
}

// ---------------------------------------------------------------- uniform starts

/** The seeded LCG's state k steps after `state` (lib/util/random.ts lcgJump). */
function lcgJump(state: u32, k: u64): u32 {
  let mul: u32 = 0x19660d, add: u32 = 0x3c6ef35f, accMul: u32 = 1, accAdd: u32 = 0;
  while (k > 0) {
    if (k & 1) {
      accMul *= mul;
      accAdd = accAdd * mul + add;
    }
    add = (mul + 1) * add;
    mul *= mul;
    k >>= 1;
  }
  return accMul * state + accAdd;
}

/**
 * Images [i0, i1) of the program's uniform L-inf starts into x, in double precision as
 * lib/model/starts.ts draws them: clip(origin + eps (2u - 1), 0, 1), then rounded to float32.
 */
function drawUniformStarts(prog: usize, x: usize, origins: usize, d: i32, i0: i32, i1: i32): void {
  const eps = load<f64>(prog + PROG_START_EPS);
  // The range's pixels are consecutive in the stream: one jump to its first, then step by step.
  let st = lcgJump(load<u32>(prog + PROG_START_STATE), <u64>i0 * <u64>d);
  const end = <usize>i1 * (<usize>d << 2);
  for (let o = <usize>i0 * (<usize>d << 2); o < end; o += 4) {
    st = st * 0x19660d + 0x3c6ef35f;
    const v = <f64>load<f32>(origins + o) + eps * (2.0 * (<f64>st * (1.0 / 4294967296.0)) - 1.0);
    store<f32>(x + o, <f32>(v > 0 ? (v < 1 ? v : 1.0) : 0.0));
  }
}

/**
 * The descent loop of a DescentProgram at `prog` (layout.ts) on its images [i0, i1): every
 * step forward, loss gradient, the step, the ball, the clip (see moveImage), with early stop
 * when asked. Images go in groups of 4 that stay in cache for all their steps; the program's
 * images are updated in place and the steps each took written to PROG_STEPS_USED (when not 0).
 * scratch: groupScratchBytes.
 */
export function descendRange(net: usize, prog: usize, i0: i32, i1: i32, scratch: usize): void {
  const L = layers(net);
  const d = colsOf(net, 0);
  const inBytes = <usize>d << 2;
  const classes = rowsOf(net, L - 1);
  const x = <usize>load<u32>(prog + PROG_X), labels = <usize>load<u32>(prog + PROG_LABELS);
  const prior = <usize>load<u32>(prog + PROG_PRIOR), origins = <usize>load<u32>(prog + PROG_ORIGINS);
  const used = <usize>load<u32>(prog + PROG_STEPS_USED);
  const steps = load<i32>(prog + PROG_STEPS), rule = load<i32>(prog + PROG_STEP_RULE);
  const eta = load<f32>(prog + PROG_STEP_SIZE), lam = load<f32>(prog + PROG_LAM);
  const ball = load<i32>(prog + PROG_BALL), eps = load<f32>(prog + PROG_EPS);
  const clip = load<i32>(prog + PROG_CLIP) != 0, early = load<i32>(prog + PROG_EARLY_STOP) != 0;
  const thresholded = load<i32>(prog + PROG_THRESHOLDED) != 0, threshold = load<f32>(prog + PROG_THRESHOLD);
  const kind = load<i32>(prog + PROG_LOSS + LOSS_KIND), kappa = load<f32>(prog + PROG_LOSS + LOSS_KAPPA);
  const targeted = load<i32>(prog + PROG_LOSS + LOSS_TARGETED) != 0;
  const g = groupScratchAt(net, scratch);
  const tx = g.tx, tt = g.tt, to = g.to, tg = g.tg;
  if (load<i32>(prog + PROG_START) == START_UNIFORM_LINF && origins != 0) drawUniformStarts(prog, x, origins, d, i0, i1);
  for (let i = i0; i < i1; i += 4) {
    if (cancelled()) return;
    const m = min(4, i1 - i);
    for (let k = 0; k < 4; k++) {
      const src = <usize>(k < m ? i + k : i);
      memory.copy(tx + <usize>k * inBytes, x + src * inBytes, inBytes);
      if (prior != 0) memory.copy(tt + <usize>k * inBytes, prior + src * inBytes, inBytes);
      if (origins != 0) memory.copy(to + <usize>k * inBytes, origins + src * inBytes, inBytes);
      store<u8>(g.tgoal + <usize>k, load<u8>(labels + src));
      store<i32>(g.tdone + (<usize>k << 2), -1);
    }
    for (let step = 0; step < steps; step++) {
      if (cancelled()) break;
      if (thresholded) {
        // The network sees x > threshold ? 1 : 0; the gradient at that image is applied to x (straight through).
        for (let q = 0; q < 4 * d; q++) {
          const o = <usize>q << 2;
          store<f32>(g.tb + o, load<f32>(tx + o) > threshold ? <f32>1 : <f32>0);
        }
      }
      const seen = thresholded ? g.tb : tx;
      for (let k = 0; k < 4; k++) store<u32>(g.ptrs + (<usize>k << 2), <u32>(seen + <usize>k * inBytes));
      groupForward(net, g);
      if (early) {
        // Images whose forward pass already meets the criterion stop here, before moving.
        const out = groupOutputs(net, g);
        let moving = 0;
        for (let k = 0; k < m; k++) {
          if (load<i32>(g.tdone + (<usize>k << 2)) >= 0) continue;
          const predicted = argmaxOf(out + <usize>k * (<usize>classes << 3), classes);
          const label = <i32>load<u8>(g.tgoal + <usize>k);
          if (targeted ? predicted == label : predicted != label) store<i32>(g.tdone + (<usize>k << 2), step);
          else moving++;
        }
        if (moving == 0) break;
      }
      groupBackward(net, g, kind, kappa, targeted, tg, tg + inBytes, tg + 2 * inBytes, tg + 3 * inBytes);
      for (let k = 0; k < m; k++) {
        if (load<i32>(g.tdone + (<usize>k << 2)) >= 0) continue;
        const ko = <usize>k * inBytes;
        moveImage(tx + ko, tg + ko, prior != 0 ? tt + ko : 0, to + ko, d, rule, eta, lam, ball, eps, !targeted, clip);
      }
    }
    for (let k = 0; k < m; k++) {
      memory.copy(x + <usize>(i + k) * inBytes, tx + <usize>k * inBytes, inBytes);
      if (used != 0) {
        const done = load<i32>(g.tdone + (<usize>k << 2));
        store<i32>(used + (<usize>(i + k) << 2), done >= 0 ? done : steps);
      }
    }
  }
}

/**
 * Forward through the layers above the first, the output delta, and backward down to the
 * deltas of the first layer's units, updating every layer above the first (thread 0's part
 * of a mini-batch in sgdRange). aOff: a layer's offset in `deltas` (B x rows f32 per layer);
 * in `acts` (rows of a, then aux) it is twice that.
 */
function sgdAbove(net: usize, ctx: usize, m: i32, B: i32, lab: usize, ptrs2: usize, ptrsG: usize, spare: usize): void {
  const L = layers(net);
  const acts = <usize>load<u32>(ctx + SGD_ACTS), deltas = <usize>load<u32>(ctx + SGD_DELTAS);
  let aOff: usize = <usize>rowsOf(net, 0) * B << 2;
  for (let l = 1; l < L; l++) {
    const rows = rowsOf(net, l), cols = colsOf(net, l);
    const below = acts + 2 * (aOff - (<usize>cols * B << 2));
    for (let i = 0; i < m; i++) store<u32>(ptrs2 + (<usize>i << 2), <u32>(below + <usize>i * (<usize>cols << 3)));
    forwardLayer(net, l, ptrs2, m, acts + 2 * aOff, 0, rows, spare, true);
    aOff += <usize>rows * B << 2;
  }
  const top = rowsOf(net, L - 1);
  let off = aOff - (<usize>top * B << 2);
  outputDelta(acts + 2 * off, deltas + off, lab, 0, m, top, 0, top, actOf(net, L - 1), load<i32>(ctx + SGD_LOSS), 0, false, 0);
  for (let l = L - 1; l >= 1; l--) {
    const rows = rowsOf(net, l), cols = colsOf(net, l);
    const d = deltas + off;
    const below = off - (<usize>cols * B << 2);
    const dn = deltas + below, an = acts + 2 * below;
    const act = actOf(net, l - 1);
    // deltas of the units below (with the weights before this batch's update)
    const rb = <usize>rows << 2, cb = <usize>cols << 2;
    for (let i = 0; i < m; i += 4) {
      const q = min(4, m - i);
      for (let k = 0; k < 4; k++) {
        const src = k < q ? i + k : i;
        store<u32>(ptrsG + (<usize>k << 2), <u32>(d + <usize>src * rb));
        store<u32>(ptrsG + 16 + (<usize>k << 2), <u32>(k < q ? dn + <usize>(i + k) * cb : spare));
      }
      backTile(wOf(net, l), rows, cols, 0, cols,
        load<u32>(ptrsG), load<u32>(ptrsG, 4), load<u32>(ptrsG, 8), load<u32>(ptrsG, 12),
        load<u32>(ptrsG, 16), load<u32>(ptrsG, 20), load<u32>(ptrsG, 24), load<u32>(ptrsG, 28));
    }
    for (let i = 0; i < m; i++) timesActPrime(dn + <usize>i * cb, an + <usize>i * 2 * cb, cols, 0, cols, act);
    // W_l and b_l
    for (let i = 0; i < m; i++) store<u32>(ptrs2 + (<usize>i << 2), <u32>(an + <usize>i * 2 * cb));
    updateLayer(wOf(net, l), bOf(net, l), rows, cols, 0, rows, 0, cols, m, d, ptrs2, load<f32>(ctx + SGD_ETA) / <f32>m, true);
    off = below;
  }
}

/**
 * Mini-batch sgd over batches [k0, k1) of an epoch, thread t of T (all T call it at once); the
 * context at ctx is laid out in layout.ts (SGD_*), the loss at the output is SGD_LOSS
 * (quadratic or softmax cross-entropy).
 * The first layer (by far the largest) is split by its units: each thread computes its
 * units' forward values and updates the weights feeding them; thread 0 alone runs the
 * layers above and the deltas of the first layer's units. No sum is split across threads,
 * and the threads meet twice per mini-batch (never for a single-layer network with the
 * quadratic loss, whose output deltas are unit by unit). At the first meeting every thread
 * acts on thread 0's reading of the interrupt flag, so all return together.
 */
export function sgdRange(net: usize, ctx: usize, k0: i32, k1: i32, t: i32, T: i32): void {
  const L = layers(net);
  const images = <usize>load<u32>(ctx + SGD_IMAGES), labels = <usize>load<u32>(ctx + SGD_LABELS);
  const order = <usize>load<u32>(ctx + SGD_ORDER);
  const n = load<i32>(ctx + SGD_N), B = load<i32>(ctx + SGD_BATCH);
  const bar = ctx + SGD_BARRIER;
  const acts = <usize>load<u32>(ctx + SGD_ACTS), deltas = <usize>load<u32>(ctx + SGD_DELTAS);
  const mine = <usize>load<u32>(ctx + SGD_SCRATCH) + <usize>t * <usize>load<u32>(ctx + SGD_SCRATCH_BYTES);
  const kind = load<i32>(ctx + SGD_LOSS);
  const inBytes = <usize>colsOf(net, 0) << 2;
  const imgPtrs = mine;                 // B u32
  const lab = imgPtrs + (<usize>B << 2); // B u8
  const ptrs2 = lab + <usize>((B + 3) & ~3); // B u32: rows of the layer below
  const ptrsG = ptrs2 + (<usize>B << 2);  // 4 u32 (delta rows), 4 u32 (gradient rows)
  const spare = ptrsG + 32;
  const rows0 = rowsOf(net, 0), cols0 = colsOf(net, 0);
  const my0 = splitAt(rows0, t, T), my1 = splitAt(rows0, t + 1, T);
  const alone = L == 1 && kind == LOSS_QUADRATIC;
  for (let k = k0; k < k1; k++) {
    if (alone && cancelled()) return;
    const start = k * B;
    const m = min(B, n - start);
    for (let i = 0; i < m; i++) {
      const j = <usize>load<u32>(order + (<usize>(start + i) << 2));
      store<u32>(imgPtrs + (<usize>i << 2), <u32>(images + j * inBytes));
      store<u8>(lab + <usize>i, load<u8>(labels + j));
    }
    // Forward of the first layer, my units.
    forwardLayer(net, 0, imgPtrs, m, acts, my0, my1, spare, true);
    if (alone) {
      outputDelta(acts, deltas, lab, 0, m, rows0, my0, my1, actOf(net, 0), kind, 0, false, 0);
    } else {
      if (t == 0) atomic.store<i32>(ctx + SGD_STOP, atomic.load<i32>(CANCEL_FLAG));
      barrier(bar, T, load<i32>(ctx + SGD_SPINS));
      if (atomic.load<i32>(ctx + SGD_STOP) != 0) return;
      // The small layers above the first on thread 0 alone (sharing them cost more in cache
      // traffic and waits than it saved).
      if (t == 0) sgdAbove(net, ctx, m, B, lab, ptrs2, ptrsG, spare);
      barrier(bar, T, load<i32>(ctx + SGD_SPINS));
    }
    // First layer: my rows (deltas from thread 0 above, or from my own output delta).
    updateLayer(wOf(net, 0), bOf(net, 0), rows0, cols0, my0, my1, 0, cols0, m, deltas, imgPtrs, load<f32>(ctx + SGD_ETA) / <f32>m, true);
  }
}
