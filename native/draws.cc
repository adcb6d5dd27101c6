// The readable draws (native/draws.h): one attempt after another, as lib/util/random.ts.
// Compiled without floating-point contraction, so every operation rounds as JavaScript's does.
#include "draws.h"

#include <math.h>
#include <string.h>

namespace {
const uint32_t MUL = 0x19660d, INC = 0x3c6ef35f;
const double EPS = 1.0 / 4294967296.0;
const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
const double LG1 = 6.666666666666735130e-01, LG2 = 3.999999999940941908e-01, LG3 = 2.857142874366239149e-01,
             LG4 = 2.222219843214978396e-01, LG5 = 1.818357216161805012e-01, LG6 = 1.531383769920937332e-01,
             LG7 = 1.479819860511658591e-01;
}  // namespace

double advlabLog(double x) {
  uint64_t bits;
  memcpy(&bits, &x, 8);
  int32_t hx = (int32_t)(bits >> 32);
  int32_t k = (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const int32_t i = (hx + 0x95f64) & 0x100000;
  // x scaled into [sqrt(2)/2, sqrt(2)): its exponent replaced, the mantissa kept.
  const uint64_t scaled = (bits & 0xffffffffull) | ((uint64_t)(uint32_t)(hx | (i ^ 0x3ff00000)) << 32);
  double xs;
  memcpy(&xs, &scaled, 8);
  k += i >> 20;
  const double f = xs - 1.0;
  const double dk = (double)k;
  if ((0x000fffff & (2 + hx)) < 3) {  // |f| < 2^-20
    if (f == 0.0) return k == 0 ? 0.0 : dk * LN2_HI + dk * LN2_LO;
    const double R = f * f * (0.5 - 0.33333333333333333 * f);
    return k == 0 ? f - R : dk * LN2_HI - ((R - dk * LN2_LO) - f);
  }
  const double s = f / (2.0 + f);
  const double z = s * s, w = z * z;
  const double t1 = w * (LG2 + w * (LG4 + w * LG6));
  const double t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const double R = t2 + t1;
  if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {
    const double hfsq = 0.5 * f * f;
    return k == 0 ? f - (hfsq - s * (hfsq + R)) : dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
  }
  return k == 0 ? f - s * (f - R) : dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f);
}

uint32_t advlabNormalPairs(uint32_t state, long pairs, double mu, double sigma, float* out32, double* out64) {
  for (long p = 0; p < pairs; p++) {
    double u, v, q;
    do {
      state = MUL * state + INC;
      u = EPS * (double)state * 2 - 1;
      state = MUL * state + INC;
      v = EPS * (double)state * 2 - 1;
      q = u * u + v * v;
    } while (q == 0.0 || q > 1);
    const double f = sqrt((-2 * advlabLog(q)) / q);
    const double a = mu + sigma * (0.0 + v * f), b = mu + sigma * (0.0 + u * f);
    if (out32) {
      out32[2 * p] = (float)a;
      out32[2 * p + 1] = (float)b;
    } else {
      out64[2 * p] = a;
      out64[2 * p + 1] = b;
    }
  }
  return state;
}
