// native/draws.h's normal draws, eight attempts of the polar method at a time (AVX-512 F): the
// LCG jumped ahead per lane, the logarithm's steps lane by lane as native/draws.cc takes them
// (the rare |f| < 2^-20 case from there), every operation rounded as in JavaScript (no FMA:
// this file is compiled with -ffp-contract=off), the accepted pairs kept in order.
#include <immintrin.h>

#include "draws.h"

namespace {
const uint32_t MUL = 0x19660d, INC = 0x3c6ef35f;
const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
const double LG1 = 6.666666666666735130e-01, LG2 = 3.999999999940941908e-01, LG3 = 2.857142874366239149e-01,
             LG4 = 2.222219843214978396e-01, LG5 = 1.818357216161805012e-01, LG6 = 1.531383769920937332e-01,
             LG7 = 1.479819860511658591e-01;

inline __m512d add(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
inline __m512d sub(__m512d a, __m512d b) { return _mm512_sub_pd(a, b); }
inline __m512d mul(__m512d a, __m512d b) { return _mm512_mul_pd(a, b); }
inline __m512d num(double x) { return _mm512_set1_pd(x); }
inline __m512i i64(long long x) { return _mm512_set1_epi64(x); }
}  // namespace

uint32_t advlabNormalPairsAvx512(uint32_t state, long pairs, double mu, double sigma, float* out32, double* out64) {
  // Lane j of S holds the state j + 1 steps on: a_j * state + c_j, with a_j = MUL^(j+1) and
  // c_j = INC (1 + MUL + ... + MUL^j), all mod 2^32; sixteen steps move every lane on at once.
  alignas(64) uint32_t a[16], c[16];
  uint32_t ak = 1, ck = 0;
  for (int j = 0; j < 16; j++) {
    ak *= MUL;
    ck = ck * MUL + INC;
    a[j] = ak;
    c[j] = ck;
  }
  __m512i S = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_load_si512(a), _mm512_set1_epi32((int)state)), _mm512_load_si512(c));
  const __m512i A16 = _mm512_set1_epi32((int)ak), C16 = _mm512_set1_epi32((int)ck);
  // Attempt t uses the uniforms of lanes 2t (u) and 2t + 1 (v).
  const __m512i evenOdd = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const __m512d eps = num(1.0 / 4294967296.0), two = num(2.0), one = num(1.0), zero = _mm512_setzero_pd();
  alignas(64) double bufA[8], bufB[8], qs[8], logs[8];
  alignas(64) uint32_t lanes[16];
  long p = 0;
  while (p < pairs) {
    const __m512i split = _mm512_permutexvar_epi32(evenOdd, S);
    const __m512d u = sub(mul(mul(_mm512_cvtepu32_pd(_mm512_castsi512_si256(split)), eps), two), one);
    const __m512d v = sub(mul(mul(_mm512_cvtepu32_pd(_mm512_extracti64x4_epi64(split, 1)), eps), two), one);
    const __m512d q = add(mul(u, u), mul(v, v));
    const __mmask8 ok = _mm512_cmp_pd_mask(q, zero, _CMP_NEQ_OQ) & _mm512_cmp_pd_mask(q, one, _CMP_LE_OQ);
    if (ok) {
      // log q, as advlabLog takes it.
      const __m512i bits = _mm512_castpd_si512(q);
      const __m512i hx = _mm512_srli_epi64(bits, 32);
      const __m512i hxm = _mm512_and_si512(hx, i64(0x000fffff));
      const __m512i i = _mm512_and_si512(_mm512_add_epi64(hxm, i64(0x95f64)), i64(0x100000));
      const __m512i high = _mm512_or_si512(hxm, _mm512_xor_si512(i, i64(0x3ff00000)));
      const __m512d xs = _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(bits, i64(0xffffffffll)), _mm512_slli_epi64(high, 32)));
      const __m512i k = _mm512_add_epi64(_mm512_sub_epi64(_mm512_srli_epi64(hx, 20), i64(1023)), _mm512_srli_epi64(i, 20));
      const __m512d dk = _mm512_cvtepi32_pd(_mm512_cvtepi64_epi32(k));
      const __m512d f = sub(xs, one);
      const __m512d s = _mm512_div_pd(f, add(two, f));
      const __m512d z = mul(s, s), w = mul(z, z);
      const __m512d t1 = mul(w, add(num(LG2), mul(w, add(num(LG4), mul(w, num(LG6))))));
      const __m512d t2 = mul(z, add(num(LG1), mul(w, add(num(LG3), mul(w, add(num(LG5), mul(w, num(LG7))))))));
      const __m512d R = add(t2, t1);
      const __m512d hfsq = mul(mul(num(0.5), f), f);
      const __m512d kHi = mul(dk, num(LN2_HI)), kLo = mul(dk, num(LN2_LO));
      const __m512d far0 = sub(f, sub(hfsq, mul(s, add(hfsq, R))));
      const __m512d farK = sub(kHi, sub(sub(hfsq, add(mul(s, add(hfsq, R)), kLo)), f));
      const __m512d near0 = sub(f, mul(s, sub(f, R)));
      const __m512d nearK = sub(kHi, sub(sub(mul(s, sub(f, R)), kLo), f));
      const __mmask8 far = _mm512_cmp_epi64_mask(_mm512_or_si512(_mm512_sub_epi64(hxm, i64(0x6147a)), _mm512_sub_epi64(i64(0x6b851), hxm)), _mm512_setzero_si512(), _MM_CMPINT_GT);
      const __mmask8 k0 = _mm512_cmp_epi64_mask(k, _mm512_setzero_si512(), _MM_CMPINT_EQ);
      __m512d lg = _mm512_mask_blend_pd(far, _mm512_mask_blend_pd(k0, nearK, near0), _mm512_mask_blend_pd(k0, farK, far0));
      const __mmask8 tiny = _mm512_cmp_epi64_mask(_mm512_and_si512(_mm512_add_epi64(hxm, i64(2)), i64(0x000fffff)), i64(3), _MM_CMPINT_LT) & ok;
      if (tiny) {
        _mm512_store_pd(qs, q);
        _mm512_store_pd(logs, lg);
        for (int t = 0; t < 8; t++) if (tiny & (1u << t)) logs[t] = advlabLog(qs[t]);
        lg = _mm512_load_pd(logs);
      }
      const __m512d fq = _mm512_sqrt_pd(_mm512_div_pd(mul(num(-2.0), lg), q));
      const __m512d outA = add(num(mu), mul(num(sigma), add(zero, mul(v, fq))));
      const __m512d outB = add(num(mu), mul(num(sigma), add(zero, mul(u, fq))));
      // The first `take` accepted attempts, in order.
      unsigned mask = ok;
      const long count = __builtin_popcount(mask);
      const long take = count < pairs - p ? count : pairs - p;
      if (take < count) {
        unsigned kept = 0, m = mask;
        for (long t = 0; t < take; t++) {
          kept |= m & -m;
          m &= m - 1;
        }
        mask = kept;
      }
      _mm512_mask_compressstoreu_pd(bufA, (__mmask8)mask, outA);
      _mm512_mask_compressstoreu_pd(bufB, (__mmask8)mask, outB);
      if (out32) {
        for (long t = 0; t < take; t++) {
          out32[2 * (p + t)] = (float)bufA[t];
          out32[2 * (p + t) + 1] = (float)bufB[t];
        }
      } else {
        for (long t = 0; t < take; t++) {
          out64[2 * (p + t)] = bufA[t];
          out64[2 * (p + t) + 1] = bufB[t];
        }
      }
      p += take;
      if (p == pairs) {
        // Done: the stream stops at the v of the last attempt taken, not at the end of the eight.
        _mm512_store_si512(lanes, S);
        const int last = 31 - __builtin_clz(mask);
        return lanes[2 * last + 1];
      }
    }
    S = _mm512_add_epi32(_mm512_mullo_epi32(S, A16), C16);
  }
  return state;
}
