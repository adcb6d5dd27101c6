/**
 * Batched float32 kernels for sigmoid networks, compiled to WebAssembly SIMD (f32x4).
 *
 * Every pointer is a byte offset into the one shared memory. A network is described by a
 * small table at `net`: i32 L (layers), then per layer l: rows, cols, W (rows x cols f32,
 * row-major), b (rows f32).
 *
 * Determinism: each output number is computed by one fixed sequence of float32 operations
 * (lanes of a dot product accumulate columns c = k mod 4 in order, are summed as
 * (l0 + l1) + (l2 + l3), then the leftover columns are added in order; sums over images or
 * rows run in index order from 0). Tiling, padding and the split between threads only
 * choose which numbers a thread computes, never how, so results do not depend on them.
 */

// ---------------------------------------------------------------- network table

@inline function layers(net: usize): i32 { return load<i32>(net); }
@inline function rowsOf(net: usize, l: i32): i32 { return load<i32>(net + 4 + (<usize>l << 4)); }
@inline function colsOf(net: usize, l: i32): i32 { return load<i32>(net + 8 + (<usize>l << 4)); }
@inline function wOf(net: usize, l: i32): usize { return <usize>load<u32>(net + 12 + (<usize>l << 4)); }
@inline function bOf(net: usize, l: i32): usize { return <usize>load<u32>(net + 16 + (<usize>l << 4)); }

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
  W: usize, b: usize, cols: i32, r0: i32, r1: i32, omOff: usize,
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
    storeSigmoid(out0 + ro, s00 + b0, omOff); storeSigmoid(out1 + ro, s10 + b0, omOff);
    storeSigmoid(out2 + ro, s20 + b0, omOff); storeSigmoid(out3 + ro, s30 + b0, omOff);
    if (two) {
      const b1 = load<f32>(b + ro + 4);
      storeSigmoid(out0 + ro + 4, s01 + b1, omOff); storeSigmoid(out1 + ro + 4, s11 + b1, omOff);
      storeSigmoid(out2 + ro + 4, s21 + b1, omOff); storeSigmoid(out3 + ro + 4, s31 + b1, omOff);
    }
  }
}

/** forwardTile for 2 inputs: the same operations per output number, for short last groups. */
function forwardTile2(
  W: usize, b: usize, cols: i32, r0: i32, r1: i32, omOff: usize, in0: usize, in1: usize, out0: usize, out1: usize,
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
    storeSigmoid(out0 + ro, s00 + b0, omOff); storeSigmoid(out1 + ro, s10 + b0, omOff);
    if (two) {
      const b1 = load<f32>(b + ro + 4);
      storeSigmoid(out0 + ro + 4, s01 + b1, omOff); storeSigmoid(out1 + ro + 4, s11 + b1, omOff);
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
  const W = wOf(net, l), b = bOf(net, l);
  const omOff: usize = withOm ? <usize>rows << 2 : 0;
  const stride = withOm ? <usize>rows << 3 : <usize>rows << 2;
  for (let i = 0; i < n; i += 4) {
    const p0 = <usize>load<u32>(inPtrs + (<usize>i << 2));
    const p1 = i + 1 < n ? <usize>load<u32>(inPtrs + (<usize>(i + 1) << 2)) : p0;
    if (n - i <= 2) {
      // A last group of one or two (e.g. the 9th and 10th image of a mini-batch of 10).
      const o0 = out + <usize>i * stride;
      forwardTile2(W, b, cols, r0, r1, omOff, p0, p1, o0, i + 1 < n ? o0 + stride : spare);
      break;
    }
    const p2 = i + 2 < n ? <usize>load<u32>(inPtrs + (<usize>(i + 2) << 2)) : p0;
    const p3 = i + 3 < n ? <usize>load<u32>(inPtrs + (<usize>(i + 3) << 2)) : p0;
    const o0 = out + <usize>i * stride;
    forwardTile(W, b, cols, r0, r1, omOff, p0, p1, p2, p3, o0,
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
 * delta[i * units + k] = (a - y) a (1 - a) for the output layer, y the one-hot of labels[i],
 * units k in [k0, k1). `a` rows are 2 x units (a, then 1 - a); a - 1 is taken as -(1 - a).
 */
function outputDelta(a: usize, delta: usize, labels: usize, n: i32, units: i32, k0: i32, k1: i32): void {
  for (let i = 0; i < n; i++) {
    const label = <i32>load<u8>(labels + <usize>i);
    const row = a + (<usize>i * units << 3);
    const drow = delta + (<usize>i * units << 2);
    for (let k = k0; k < k1; k++) {
      const ak = load<f32>(row + (<usize>k << 2));
      const om = load<f32>(row + (<usize>(units + k) << 2));
      const diff = k == label ? -om : ak;
      store<f32>(drow + (<usize>k << 2), flush(diff * ak * om));
    }
  }
}

/** g[c] *= a[c] (1 - a[c]) for c in [c0, c1): dC/da into dC/dz. `a` is a 2 x units row (a, 1 - a). */
@inline function timesSigmoidPrime(g: usize, a: usize, units: i32, c0: i32, c1: i32): void {
  const omOff = <usize>units << 2;
  for (let c = c0; c < c1; c++) {
    const o = <usize>c << 2;
    store<f32>(g + o, flush(load<f32>(g + o) * (load<f32>(a + o) * load<f32>(a + omOff + o))));
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
  let maxRows = 0;
  for (let l = 0; l < L; l++) maxRows = max(maxRows, rowsOf(net, l));
  const ptrs = scratch;
  const spare = scratch + 16;
  const buf = spare + (<usize>maxRows << 3);
  for (let i = i0; i < i1; i += 4) {
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
 * Gradient descent on images [i0, i1) of `x` (sizes[0] f32 each, updated in place):
 * `steps` times x -= eta (dC/dx + lam (x - xt)), C = 1/2 ||a_L(x) - onehot(goal)||^2.
 * `targets` = 0 means no prior (the non-targeted attack). Images go in groups of 4 that
 * stay in cache for all their steps. scratch: see `attackScratchBytes`.
 */
export function attackRange(
  net: usize, x: usize, targets: usize, goals: usize, i0: i32, i1: i32, steps: i32, eta: f32, lam: f32, scratch: usize,
): void {
  const L = layers(net);
  const n0 = colsOf(net, 0);
  const inBytes = <usize>n0 << 2;
  // Scratch layout: tile x (4 rows), tile targets (4), gradient (4), goals (4 bytes + pad),
  // pointer table (4), spare row, then per layer 4 activation rows and 4 delta rows.
  const tx = scratch;
  const tt = tx + 4 * inBytes;
  const tg = tt + 4 * inBytes;
  const tgoal = tg + 4 * inBytes;
  const ptrs = tgoal + 16;
  const spare = ptrs + 16;
  let maxRows = 0;
  for (let l = 0; l < L; l++) maxRows = max(maxRows, rowsOf(net, l));
  const acts = spare + (<usize>maxRows << 3);
  let total: usize = 0; // bytes of 4 delta rows per layer; activations (a, 1 - a) take twice that
  for (let l = 0; l < L; l++) total += <usize>rowsOf(net, l) << 4;
  const deltas = acts + 2 * total;
  const eta4 = f32x4.splat(eta), lam4 = f32x4.splat(lam);
  for (let i = i0; i < i1; i += 4) {
    const m = min(4, i1 - i);
    for (let k = 0; k < 4; k++) {
      const src = k < m ? i + k : i;
      memory.copy(tx + <usize>k * inBytes, x + <usize>src * inBytes, inBytes);
      if (targets != 0) memory.copy(tt + <usize>k * inBytes, targets + <usize>src * inBytes, inBytes);
      store<u8>(tgoal + <usize>k, load<u8>(goals + <usize>src));
    }
    for (let step = 0; step < steps; step++) {
      // Forward, keeping every layer's activations of the 4 images.
      for (let k = 0; k < 4; k++) store<u32>(ptrs + (<usize>k << 2), <u32>(tx + <usize>k * inBytes));
      let a = acts;
      for (let l = 0; l < L; l++) {
        const rows = rowsOf(net, l);
        forwardLayer(net, l, ptrs, 4, a, 0, rows, spare, true);
        for (let k = 0; k < 4; k++) store<u32>(ptrs + (<usize>k << 2), <u32>(a + <usize>k * (<usize>rows << 3)));
        a += <usize>rows << 5;
      }
      // Backward: output delta, then down layer by layer; the last product is dC/dx.
      let aOff: usize = 2 * total, dOff: usize = total;
      let rows = rowsOf(net, L - 1);
      aOff -= <usize>rows << 5; dOff -= <usize>rows << 4;
      outputDelta(acts + aOff, deltas + dOff, tgoal, 4, rows, 0, rows);
      for (let l = L - 1; l >= 0; l--) {
        rows = rowsOf(net, l);
        const cols = colsOf(net, l);
        const rb = <usize>rows << 2, cb = <usize>cols << 2;
        const d = deltas + dOff;
        if (l == 0) {
          backTile(wOf(net, 0), rows, cols, 0, cols, d, d + rb, d + 2 * rb, d + 3 * rb, tg, tg + cb, tg + 2 * cb, tg + 3 * cb);
        } else {
          const below = <usize>cols << 4;
          const dn = deltas + dOff - below, an = acts + aOff - 2 * below;
          backTile(wOf(net, l), rows, cols, 0, cols, d, d + rb, d + 2 * rb, d + 3 * rb, dn, dn + cb, dn + 2 * cb, dn + 3 * cb);
          for (let k = 0; k < 4; k++) timesSigmoidPrime(dn + <usize>k * cb, an + <usize>k * 2 * cb, cols, 0, cols);
          dOff -= below; aOff -= 2 * below;
        }
      }
      // x -= eta (g + lam (x - xt)), in the reference's order of operations.
      const c4 = (4 * n0) & ~3;
      for (let c = 0; c < c4; c += 4) {
        const o = <usize>c << 2;
        const xv = v128.load(tx + o);
        let g = v128.load(tg + o);
        if (targets != 0) g = madd(lam4, f32x4.sub(xv, v128.load(tt + o)), g);
        v128.store(tx + o, f32x4.sub(xv, f32x4.mul(eta4, g)));
      }
    }
    for (let k = 0; k < m; k++) memory.copy(x + <usize>(i + k) * inBytes, tx + <usize>k * inBytes, inBytes);
  }
}

/** Bytes of scratch `attackRange` needs for this network. */
export function attackScratchBytes(net: usize): i32 {
  const L = layers(net);
  let maxRows = 0, total = 0;
  for (let l = 0; l < L; l++) { maxRows = max(maxRows, rowsOf(net, l)); total += rowsOf(net, l) << 4; }
  return 3 * 4 * (colsOf(net, 0) << 2) + 32 + (maxRows << 3) + 3 * total + 64;
}

/**
 * Mini-batch sgd over batches [k0, k1) of an epoch, thread t of T (all T call it at once).
 * ctx (i32 words): 0 images ptr, 1 labels ptr (u8), 2 order ptr (u32), 3 n examples,
 * 4 batch size, 5 barrier spin limit (checks before sleeping), 6 eta (f32 bits; read where used, see `barrier`), 7 barrier (2 words at ctx + 28), 9 acts ptr (B x 2 x units f32 per
 * layer: a, then 1 - a), 10 deltas ptr (B x units f32 per layer),
 * 11 per-thread scratch ptr, 12 per-thread scratch bytes.
 * The first layer (by far the largest) is split by its units: each thread computes its
 * units' forward values and updates the weights feeding them; thread 0 alone runs the
 * layers above and the deltas of the first layer's units. No sum is split across threads,
 * and the threads meet twice per mini-batch (once for a single-layer network: never).
 */
export function sgdRange(net: usize, ctx: usize, k0: i32, k1: i32, t: i32, T: i32): void {
  const L = layers(net);
  const images = <usize>load<u32>(ctx), labels = <usize>load<u32>(ctx, 4), order = <usize>load<u32>(ctx, 8);
  const n = load<i32>(ctx, 12), B = load<i32>(ctx, 16);
  const bar = ctx + 28;
  const acts = <usize>load<u32>(ctx, 36), deltas = <usize>load<u32>(ctx, 40);
  const mine = <usize>load<u32>(ctx, 44) + <usize>t * <usize>load<u32>(ctx, 48);
  const inBytes = <usize>colsOf(net, 0) << 2;
  const imgPtrs = mine;                 // B u32
  const lab = imgPtrs + (<usize>B << 2); // B u8
  const ptrs2 = lab + <usize>((B + 3) & ~3); // B u32: rows of the layer below
  const ptrsG = ptrs2 + (<usize>B << 2);  // 4 u32 (delta rows), 4 u32 (gradient rows)
  const spare = ptrsG + 32;
  for (let k = k0; k < k1; k++) {
    const start = k * B;
    const m = min(B, n - start);
    for (let i = 0; i < m; i++) {
      const j = <usize>load<u32>(order + (<usize>(start + i) << 2));
      store<u32>(imgPtrs + (<usize>i << 2), <u32>(images + j * inBytes));
      store<u8>(lab + <usize>i, load<u8>(labels + j));
    }
    // Forward: the first layer split between the threads, the small layers above it on
    // thread 0 alone (sharing them cost more in cache traffic and waits than it saved).
    // aOff: the layer's offset in `deltas` (B x rows f32 per layer); in `acts` (rows of
    // a, then 1 - a) it is twice that.
    let aOff: usize = 0;
    for (let l = 0; l < L; l++) {
      const rows = rowsOf(net, l);
      if (l > 0 && t > 0) { aOff += <usize>rows * B << 2; continue; }
      const r0 = l == 0 ? splitAt(rows, t, T) : 0, r1 = l == 0 ? splitAt(rows, t + 1, T) : rows;
      const inP = l == 0 ? imgPtrs : ptrs2;
      if (l > 0) {
        const below = acts + 2 * (aOff - (<usize>colsOf(net, l) * B << 2));
        for (let i = 0; i < m; i++) store<u32>(ptrs2 + (<usize>i << 2), <u32>(below + <usize>i * (<usize>colsOf(net, l) << 3)));
      }
      forwardLayer(net, l, inP, m, acts + 2 * aOff, r0, r1, spare, true);
      if (l == L - 1) outputDelta(acts + 2 * aOff, deltas + aOff, lab, m, rows, r0, r1);
      aOff += <usize>rows * B << 2;
      if (l == 0 && L > 1) barrier(bar, T, load<i32>(ctx + 20));
    }
    // Backward from the top layer (thread 0) down to the deltas of the first layer's units;
    // aOff now points past the last layer's rows.
    let off = aOff - (<usize>rowsOf(net, L - 1) * B << 2);
    for (let l = L - 1; l >= 1 && t == 0; l--) {
      const rows = rowsOf(net, l), cols = colsOf(net, l);
      const c0 = 0, c1 = cols;
      const d = deltas + off;
      const below = off - (<usize>cols * B << 2);
      const dn = deltas + below, an = acts + 2 * below;
      // deltas of my units below (with the weights before this batch's update)
      const rb = <usize>rows << 2, cb = <usize>cols << 2;
      for (let i = 0; i < m; i += 4) {
        const q = min(4, m - i);
        for (let k = 0; k < 4; k++) {
          const src = k < q ? i + k : i;
          store<u32>(ptrsG + (<usize>k << 2), <u32>(d + <usize>src * rb));
          store<u32>(ptrsG + 16 + (<usize>k << 2), <u32>(k < q ? dn + <usize>(i + k) * cb : spare));
        }
        backTile(wOf(net, l), rows, cols, c0, c1,
          load<u32>(ptrsG), load<u32>(ptrsG, 4), load<u32>(ptrsG, 8), load<u32>(ptrsG, 12),
          load<u32>(ptrsG, 16), load<u32>(ptrsG, 20), load<u32>(ptrsG, 24), load<u32>(ptrsG, 28));
      }
      for (let i = 0; i < m; i++) timesSigmoidPrime(dn + <usize>i * cb, an + <usize>i * 2 * cb, cols, c0, c1);
      // W_l and b_l
      for (let i = 0; i < m; i++) store<u32>(ptrs2 + (<usize>i << 2), <u32>(an + <usize>i * 2 * cb));
      updateLayer(wOf(net, l), bOf(net, l), rows, cols, 0, rows, c0, c1, m, d, ptrs2, load<f32>(ctx + 24) / <f32>m, true);
      off = below;
    }
    if (L > 1) barrier(bar, T, load<i32>(ctx + 20));
    // First layer: my rows (deltas from thread 0 above, or from my own output delta).
    const rows0 = rowsOf(net, 0);
    updateLayer(wOf(net, 0), bOf(net, 0), rows0, colsOf(net, 0), splitAt(rows0, t, T), splitAt(rows0, t + 1, T),
      0, colsOf(net, 0), m, deltas, imgPtrs, load<f32>(ctx + 24) / <f32>m, true);
  }
}
