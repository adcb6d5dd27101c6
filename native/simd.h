// A small float vector for the kernel bodies (native/kernels_impl.h): VW float lanes, chosen by
// the macro the translation unit defines before including this file:
//   ADVLAB_AVX512 (16 lanes, FMA), ADVLAB_AVX2 (8 lanes, FMA), ADVLAB_SSE2 (4 lanes, separate
//   multiply and add), ADVLAB_NEON (4 lanes, FMA), ADVLAB_GENERIC (4 lanes, plain C, no FMA).
// Built on GCC/Clang vector extensions; fused multiply-add, partial loads and stores use the
// instruction set's intrinsics where it has them. Every helper is `static` (internal linkage),
// so the copies compiled with different -m flags never meet at link time.
#ifndef ADVLAB_NATIVE_SIMD_H
#define ADVLAB_NATIVE_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(ADVLAB_AVX512)
#include <immintrin.h>
#define VW 16
#define ADVLAB_FMA 1
#elif defined(ADVLAB_AVX2)
#include <immintrin.h>
#define VW 8
#define ADVLAB_FMA 1
#elif defined(ADVLAB_SSE2)
#include <emmintrin.h>
#define VW 4
#define ADVLAB_FMA 0
#elif defined(ADVLAB_NEON)
#include <arm_neon.h>
#define VW 4
#define ADVLAB_FMA 1
#elif defined(ADVLAB_GENERIC)
#define VW 4
#define ADVLAB_FMA 0
#else
#error "define one of ADVLAB_AVX512, ADVLAB_AVX2, ADVLAB_SSE2, ADVLAB_NEON, ADVLAB_GENERIC"
#endif

#define ADVLAB_INLINE static inline __attribute__((always_inline))

typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));
typedef float vfu __attribute__((vector_size(VW * 4), aligned(4), may_alias));

ADVLAB_INLINE vf vzero() { vf v = {}; return v; }
ADVLAB_INLINE vf vset1(float x) { return x - vzero(); }  // x in every lane (x - 0 keeps a -0; 0 + x would not)
ADVLAB_INLINE vf vload(const float* p) { return *(const vfu*)p; }
ADVLAB_INLINE void vstore(float* p, vf v) { *(vfu*)p = v; }

/** The first n (1..VW) numbers at p in the first n lanes, zeros beyond; reads nothing past p + n. */
ADVLAB_INLINE vf vloadn(const float* p, int n) {
#if defined(ADVLAB_AVX512)
  return (vf)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
#elif defined(ADVLAB_AVX2)
  const vi lane = {0, 1, 2, 3, 4, 5, 6, 7};
  return (vf)_mm256_maskload_ps(p, (__m256i)(lane < n));
#else
  float t[VW] = {};
  memcpy(t, p, (size_t)n * 4);
  return vload(t);
#endif
}

/** Stores the first n (1..VW) lanes of v at p; writes nothing past p + n. */
ADVLAB_INLINE void vstoren(float* p, vf v, int n) {
#if defined(ADVLAB_AVX512)
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), (__m512)v);
#elif defined(ADVLAB_AVX2)
  const vi lane = {0, 1, 2, 3, 4, 5, 6, 7};
  _mm256_maskstore_ps(p, (__m256i)(lane < n), (__m256)v);
#else
  float t[VW];
  vstore(t, v);
  memcpy(p, t, (size_t)n * 4);
#endif
}

/** acc + a * b: one rounding (FMA) in the FMA builds, two in the others; every multiply-add of the kernels. */
ADVLAB_INLINE vf vmadd(vf a, vf b, vf acc) {
#if defined(ADVLAB_AVX512)
  return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)acc);
#elif defined(ADVLAB_AVX2)
  return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)acc);
#elif defined(ADVLAB_NEON)
  return (vf)vfmaq_f32((float32x4_t)acc, (float32x4_t)a, (float32x4_t)b);
#else
  return acc + a * b;
#endif
}

/** The scalar multiply-add, the same operation as one lane of vmadd. */
ADVLAB_INLINE float smadd(float a, float b, float acc) {
#if ADVLAB_FMA
  return __builtin_fmaf(a, b, acc);
#else
  return acc + a * b;
#endif
}

/** m ? a : b lane by lane (m: all ones or all zeros per lane, as comparisons give). */
ADVLAB_INLINE vf vsel(vi m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }
ADVLAB_INLINE vf vmin(vf a, vf b) { return vsel(a < b, a, b); }
ADVLAB_INLINE vf vmax(vf a, vf b) { return vsel(a > b, a, b); }
ADVLAB_INLINE vf vabs(vf a) { return (vf)((vi)a & 0x7fffffff); }

/** |v| < 1e-30 becomes 0 (see flush in assembly/kernels.ts). */
ADVLAB_INLINE vf vflush(vf v) { return vsel(vabs(v) < vset1(1e-30f), vzero(), v); }
ADVLAB_INLINE float sflush(float v) { return __builtin_fabsf(v) < 1e-30f ? 0.0f : v; }

/**
 * e^x lane by lane for x <= 88 (larger x are taken as 88; x below -87 as -87): the Cephes
 * single-precision method, 2^n times a degree-7 polynomial on |r| <= ln2 / 2, the multiply-adds
 * through vmadd. About 1 ulp; the same operations in every lane, so a number's e^x does not depend
 * on its lane.
 */
ADVLAB_INLINE vf vexp(vf x) {
  x = vmin(vmax(x, vset1(-87.0f)), vset1(88.0f));
  const vf magic = vset1(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  vf t = x * vset1(1.44269504088896341f) + magic;
  vi ni = (vi)t - (vi)magic;
  vf n = t - magic;
  vf r = x - n * vset1(0.693359375f);
  r = r - n * vset1(-2.12194440e-4f);
  vf p = vset1(1.9875691500e-4f);
  p = vmadd(p, r, vset1(1.3981999507e-3f));
  p = vmadd(p, r, vset1(8.3334519073e-3f));
  p = vmadd(p, r, vset1(4.1665795894e-2f));
  p = vmadd(p, r, vset1(1.6666665459e-1f));
  p = vmadd(p, r, vset1(5.0000001201e-1f));
  vf y = vmadd(p, r * r, r) + vset1(1.0f);
  vf scale = (vf)((ni + 127) << 23);
  return y * scale;
}

// ---------------------------------------------------------------- horizontal sums
//
// The sum of a vector's lanes is always the halving tree: lanes j and j + VW/2 are added, then
// j and j + VW/4 of that, ... down to one number. hsum1 does it for one vector; hsumVW does it
// for VW vectors at once (lane j of the result: the sum of vector j), with the same additions.

ADVLAB_INLINE float hsum1(vf v) {
  float s[VW];
  vstore(s, v);
  for (int h = VW / 2; h >= 1; h /= 2)
    for (int j = 0; j < h; j++) s[j] = s[j] + s[j + h];
  return s[0];
}

#define SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)

#if VW == 16
#define LO1 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define HI1 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define LO2 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27
#define HI2 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31
#define LO3 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29
#define HI3 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31
#define LO4 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define HI4 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
ADVLAB_INLINE vf hsumVW(const vf* v) {
  vf a[8], b[4], c[2];
  for (int k = 0; k < 8; k++) a[k] = SHUF(v[2 * k], v[2 * k + 1], LO1) + SHUF(v[2 * k], v[2 * k + 1], HI1);
  for (int k = 0; k < 4; k++) b[k] = SHUF(a[2 * k], a[2 * k + 1], LO2) + SHUF(a[2 * k], a[2 * k + 1], HI2);
  for (int k = 0; k < 2; k++) c[k] = SHUF(b[2 * k], b[2 * k + 1], LO3) + SHUF(b[2 * k], b[2 * k + 1], HI3);
  return SHUF(c[0], c[1], LO4) + SHUF(c[0], c[1], HI4);
}
#elif VW == 8
#define LO1 0, 1, 2, 3, 8, 9, 10, 11
#define HI1 4, 5, 6, 7, 12, 13, 14, 15
#define LO2 0, 1, 4, 5, 8, 9, 12, 13
#define HI2 2, 3, 6, 7, 10, 11, 14, 15
#define LO3 0, 2, 4, 6, 8, 10, 12, 14
#define HI3 1, 3, 5, 7, 9, 11, 13, 15
ADVLAB_INLINE vf hsumVW(const vf* v) {
  vf a[4], b[2];
  for (int k = 0; k < 4; k++) a[k] = SHUF(v[2 * k], v[2 * k + 1], LO1) + SHUF(v[2 * k], v[2 * k + 1], HI1);
  for (int k = 0; k < 2; k++) b[k] = SHUF(a[2 * k], a[2 * k + 1], LO2) + SHUF(a[2 * k], a[2 * k + 1], HI2);
  return SHUF(b[0], b[1], LO3) + SHUF(b[0], b[1], HI3);
}
#else
#define LO1 0, 1, 4, 5
#define HI1 2, 3, 6, 7
#define LO2 0, 2, 4, 6
#define HI2 1, 3, 5, 7
ADVLAB_INLINE vf hsumVW(const vf* v) {
  vf a[2];
  for (int k = 0; k < 2; k++) a[k] = SHUF(v[2 * k], v[2 * k + 1], LO1) + SHUF(v[2 * k], v[2 * k + 1], HI1);
  return SHUF(a[0], a[1], LO2) + SHUF(a[0], a[1], HI2);
}
#endif

#endif
