// A check of every kernel in lora4j_kernels.fatbin, outside Maven: each exported kernel in each
// dtype on awkward shapes and launch sizes (rows not a multiple of the block, fewer blocks than
// rows, every supported block size, in-place calls), compared with plain double-precision
// references written here. Two backends, one set of checks:
//
//   run-kernel-check.sh [--large]   on a GPU: the fatbin loaded and launched as the Java backend
//                                   does (gpu_backend.h); --large adds tensors of more than 2^32
//                                   elements (about 17 GB) to reach the 64-bit index paths
//   run-kernel-check.sh --emulate   anywhere: the kernels' source run as fibers on the host
//                                   (host_emulation.h), for machines without a GPU such as CI
//
// On a machine without a GPU the first form runs only the host checks (the dropout hash against
// values printed by the Java DropoutMask) and says so.
#ifdef LORA4J_EMULATE
#include "host_emulation.h"
#else
#include "gpu_backend.h"
#include "../../main/cuda/common.cuh"
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

// The emulation switches fibers at every barrier, so its row-heavy shapes are smaller.
#ifdef LORA4J_EMULATE
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#endif

// ---- storage types on the host

template <typename T> const char* suffix();
template <> const char* suffix<float>() { return "_f32"; }
template <> const char* suffix<__nv_bfloat16>() { return "_bf16"; }
template <> const char* suffix<__half>() { return "_f16"; }

template <typename T> float widen(T v);
template <> float widen<float>(float v) { return v; }
template <> float widen<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> float widen<__half>(__half v) { return __half2float(v); }

template <typename T> T narrow(float v);
template <> float narrow<float>(float v) { return v; }
template <> __nv_bfloat16 narrow<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __half narrow<__half>(float v) { return __float2half_rn(v); }

template <typename T> float round_to(double v) { return widen<T>(narrow<T>((float)v)); }

// Relative tolerance: a few units in the last place of T's significand.
template <typename T> double rtol();
template <> double rtol<float>() { return 2e-5; }
template <> double rtol<__nv_bfloat16>() { return 1.6e-2; }
template <> double rtol<__half>() { return 2e-3; }

template <typename T>
struct Buf {
  T* p = nullptr;
  size_t n = 0;
  explicit Buf(size_t count) : p((T*)device_alloc(count * sizeof(T))), n(count) {}
  Buf(const std::vector<T>& host) : Buf(host.size()) { put(host); }
  ~Buf() { device_release(p); }
  Buf(const Buf&) = delete;
  void put(const std::vector<T>& host) { copy_to_device(p, host.data(), n * sizeof(T)); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    copy_to_host(h.data(), p, n * sizeof(T));
    return h;
  }
};

template <typename T>
static std::vector<float> widen_all(const std::vector<T>& v) {
  std::vector<float> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = widen<T>(v[i]);
  return r;
}
template <typename T>
static std::vector<T> narrow_all(const std::vector<float>& v) {
  std::vector<T> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = narrow<T>(v[i]);
  return r;
}

static std::mt19937_64 rng(20251124);
// Random values that T holds exactly, so the host reference starts from the same inputs.
template <typename T>
static std::vector<float> random_values(size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = widen<T>(narrow<T>(u(rng)));
  return v;
}

// ---- reporting

static int failures = 0, checks = 0;

// Half the spacing of T's smallest subnormals: what rounding a result near zero to T may cost
// (f16 results of 1e-6 are subnormal, with a spacing of 6e-8).
template <typename T> double tiny();
template <> double tiny<float>() { return std::ldexp(1.0, -150); }
template <> double tiny<__nv_bfloat16>() { return std::ldexp(1.0, -134); }
template <> double tiny<__half>() { return std::ldexp(1.0, -25); }

// Compares got (stored as T) with ref elementwise: |got - ref| <= atol + tiny<T> + rtol * |ref|
// + 1e-5 * terms[i], where terms[i], when given, is the size of the terms that the result is a
// difference of: fp32 cancellation error scales with them, not with the result. NaN must meet NaN.
template <typename T>
static void expect_close(const std::string& what, const std::vector<float>& got, const std::vector<double>& ref, double rtol_,
                         double atol, const std::vector<double>& terms = {}) {
  ++checks;
  double worst = -1;
  size_t worst_i = 0, bad = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double g = got[i], r = ref[i];
    if (std::isnan(r) || std::isnan(g)) {
      if (std::isnan(r) != std::isnan(g)) {
        if (worst < INFINITY) worst_i = i;
        worst = INFINITY;
        ++bad;
      }
      continue;
    }
    const double allowed = atol + tiny<T>() + rtol_ * std::fabs(r) + (terms.empty() ? 0.0 : 1e-5 * terms[i]);
    const double err = std::fabs(g - r);
    if (!(err <= allowed)) {
      ++bad;
      if (err / allowed > worst) {
        worst = err / allowed;
        worst_i = i;
      }
    }
  }
  if (bad) {
    ++failures;
    std::printf("FAIL %s: %zu of %zu elements off; worst [%zu] got %.9g want %.9g (rtol %g, atol %g)\n", what.c_str(), bad,
                ref.size(), worst_i, (double)got[worst_i], ref[worst_i], rtol_, atol);
  }
}

static void expect(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

static std::string tag(const char* op, const char* sfx, std::initializer_list<long long> dims) {
  std::string s = std::string(op) + sfx;
  for (long long d : dims) s += " " + std::to_string(d);
  return s;
}

// ---- embedding

template <typename T>
static void check_embedding() {
  for (int d : {1, 100, 1000, 4097}) {
    const int V = 50, n = 37;
    auto table = random_values<T>((size_t)V * d, -2, 2);
    std::vector<int> ids(n);
    for (int i = 0; i < n; ++i) ids[i] = (int)(rng() % V);
    Buf<T> dt(narrow_all<T>(table)), dout((size_t)n * d);
    Buf<int> did(ids);
    for (int grid : {n, 3}) {
      launch(std::string("embedding_forward") + suffix<T>(), grid, 256, dout.p, (const T*)dt.p, (const int*)did.p, n, d);
      auto got = widen_all(dout.get());
      std::vector<double> ref((size_t)n * d);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < d; ++j) ref[(size_t)i * d + j] = table[(size_t)ids[i] * d + j];
      expect_close<T>(tag("embedding_forward", suffix<T>(), {d, grid}), got, ref, 0, 0);
    }
  }
}

// ---- rmsnorm

template <typename T>
static void check_rmsnorm() {
  const float eps = 1e-5f;
  for (int d : {1, 7, 255, 256, 257, 4097}) {
    // 100: blocks need not be a multiple of the warp size (the last warp is partial).
    for (int block : {100, 128, 256, 1024}) {
      const int n = 5;
      auto x = random_values<T>((size_t)n * d, -3, 3);
      auto w = random_values<T>(d, 0.5f, 1.5f);
      auto dy = random_values<T>((size_t)n * d, -1, 1);
      Buf<T> dx_(narrow_all<T>(x)), dw(narrow_all<T>(w)), ddy(narrow_all<T>(dy)), dout((size_t)n * d), ddx((size_t)n * d);
      Buf<float> drstd(n);
      launch(std::string("rmsnorm_forward") + suffix<T>(), n, block, dout.p, drstd.p, (const T*)dx_.p, (const T*)dw.p, n, d, eps);
      std::vector<double> ref_out((size_t)n * d), ref_rstd(n), ref_dx((size_t)n * d), terms_dx((size_t)n * d);
      for (int i = 0; i < n; ++i) {
        double ss = 0;
        for (int j = 0; j < d; ++j) ss += (double)x[(size_t)i * d + j] * x[(size_t)i * d + j];
        const double r = 1.0 / std::sqrt(ss / d + eps);
        ref_rstd[i] = r;
        double dot = 0;
        for (int j = 0; j < d; ++j) {
          const size_t k = (size_t)i * d + j;
          ref_out[k] = w[j] * (double)round_to<T>(x[k] * r);
          dot += (double)w[j] * dy[k] * x[k];
        }
        for (int j = 0; j < d; ++j) {
          const size_t k = (size_t)i * d + j;
          ref_dx[k] = r * w[j] * dy[k] - x[k] * r * r * r * dot / d;
          terms_dx[k] = std::fabs(r * w[j] * dy[k]) + std::fabs(x[k] * r * r * r * dot / d);
        }
      }
      expect_close<float>(tag("rmsnorm_forward rstd", suffix<T>(), {d, block}), drstd.get(), ref_rstd, 1e-5, 0);
      // The intermediate rounding to T can flip at a tie between host and device, hence 2 ulp.
      const auto out = widen_all(dout.get());
      expect_close<T>(tag("rmsnorm_forward", suffix<T>(), {d, block}), out, ref_out, 2 * rtol<T>(), 1e-6);
      // The tolerance above would hide a missing intermediate cast; bit-equality shows it, as
      // host and device disagree only where x * rstd falls next to a rounding boundary of T.
      // (For f32 the cast is the identity and the reference is in double.)
      size_t exact = 0;
      for (size_t k = 0; k < out.size(); ++k) exact += out[k] == round_to<T>(ref_out[k]);
      if (!std::is_same_v<T, float>)
        expect(exact >= out.size() * 0.98, tag("rmsnorm_forward rounds x * rstd to T before the weight", suffix<T>(), {d, block}) +
                                              ": " + std::to_string(exact) + " of " + std::to_string(out.size()) + " bit-equal");
      // The backward uses the device rstd, as the Java side does.
      launch(std::string("rmsnorm_backward") + suffix<T>(), n, block, ddx.p, (const T*)ddy.p, (const T*)dx_.p, (const T*)dw.p,
             (const float*)drstd.p, n, d);
      // dx is a difference of two terms, so its error scales with their size, not with dx.
      expect_close<T>(tag("rmsnorm_backward", suffix<T>(), {d, block}), widen_all(ddx.get()), ref_dx, rtol<T>(), 0, terms_dx);
      // In place over dout, with fewer blocks than rows.
      launch(std::string("rmsnorm_backward") + suffix<T>(), 2, block, ddy.p, (const T*)ddy.p, (const T*)dx_.p, (const T*)dw.p,
             (const float*)drstd.p, n, d);
      expect_close<T>(tag("rmsnorm_backward in place", suffix<T>(), {d, block}), widen_all(ddy.get()), ref_dx, rtol<T>(), 0, terms_dx);
    }
  }
}

// ---- rope

template <typename T>
static void check_rope() {
  for (int head_dim : {2, 6, 64, 128}) {
    const int n = 9, heads = 3, half = head_dim / 2;
    auto x = random_values<T>((size_t)n * heads * head_dim, -2, 2);
    std::vector<int> pos(n);
    for (int i = 0; i < n; ++i) pos[i] = i < 4 ? i : (int)(rng() % 131072);
    std::vector<float> inv_freq(half);
    for (int j = 0; j < half; ++j) inv_freq[j] = (float)(1.0 / std::pow(500000.0, 2.0 * j / head_dim));
    Buf<T> dx(narrow_all<T>(x));
    Buf<int> dpos(pos);
    Buf<float> dfreq(inv_freq);
    for (int block : {128, 256}) {
      dx.put(narrow_all<T>(x));
      launch(std::string("rope") + suffix<T>(), n, block, dx.p, (const int*)dpos.p, (const float*)dfreq.p, n, heads, head_dim, 0);
      auto rotated = widen_all(dx.get());
      std::vector<double> ref(x.size()), terms(x.size());
      for (int i = 0; i < n; ++i)
        for (int h = 0; h < heads; ++h)
          for (int j = 0; j < half; ++j) {
            const float angle = (float)pos[i] * inv_freq[j];  // the fp32 angle the contract names
            const double c = std::cos((double)angle), s = std::sin((double)angle);
            const size_t a = ((size_t)i * heads + h) * head_dim + j, b = a + half;
            ref[a] = x[a] * c - x[b] * s;
            ref[b] = x[b] * c + x[a] * s;
            terms[a] = terms[b] = std::fabs(x[a]) + std::fabs(x[b]);
          }
      expect_close<T>(tag("rope", suffix<T>(), {head_dim, block}), rotated, ref, rtol<T>(), 0, terms);
      launch(std::string("rope") + suffix<T>(), 4, block, dx.p, (const int*)dpos.p, (const float*)dfreq.p, n, heads, head_dim, 1);
      std::vector<double> back(x.begin(), x.end());
      expect_close<T>(tag("rope inverse", suffix<T>(), {head_dim, block}), widen_all(dx.get()), back, 0, 4 * rtol<T>());
    }
  }
}

// ---- attention layout and softmax

template <typename T>
static void check_attention_layout() {
  const int B = 2, Tn = 5, Hq = 6, Hkv = 2, D = 7;
  for (int h_src : {Hq, Hkv}) {
    const int h_dst = Hq;
    auto src = random_values<T>((size_t)B * Tn * h_src * D, -1, 1);
    Buf<T> ds(narrow_all<T>(src)), dd((size_t)B * h_dst * Tn * D);
    for (int grid : {1, 1000}) {
      launch(std::string("attention_pack") + suffix<T>(), grid, 128, dd.p, (const T*)ds.p, B, Tn, h_src, h_dst, D);
      std::vector<double> ref(dd.n);
      for (int b = 0; b < B; ++b)
        for (int h = 0; h < h_dst; ++h)
          for (int t = 0; t < Tn; ++t)
            for (int d = 0; d < D; ++d)
              ref[(((size_t)b * h_dst + h) * Tn + t) * D + d] = src[(((size_t)b * Tn + t) * h_src + h / (h_dst / h_src)) * D + d];
      expect_close<T>(tag("attention_pack", suffix<T>(), {h_src, h_dst, grid}), widen_all(dd.get()), ref, 0, 0);
    }
  }
  for (int h_dst : {Hq, Hkv}) {
    const int h_src = Hq, group = h_src / h_dst;
    auto src = random_values<T>((size_t)B * h_src * Tn * D, -1, 1);
    Buf<T> ds(narrow_all<T>(src)), dd((size_t)B * Tn * h_dst * D);
    launch(std::string("attention_unpack") + suffix<T>(), 3, 256, dd.p, (const T*)ds.p, B, Tn, h_dst, h_src, D);
    std::vector<double> ref(dd.n, 0.0);
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < Tn; ++t)
        for (int g = 0; g < h_dst; ++g)
          for (int d = 0; d < D; ++d)
            for (int r = 0; r < group; ++r)
              ref[(((size_t)b * Tn + t) * h_dst + g) * D + d] += src[(((size_t)b * h_src + g * group + r) * Tn + t) * D + d];
    expect_close<T>(tag("attention_unpack", suffix<T>(), {h_src, h_dst}), widen_all(dd.get()), ref, rtol<T>() / 2, 1e-6);
  }
}

template <typename T>
static void check_attention_softmax() {
  const int B = 2, H = 3;
  const float scale = 0.125f;
  for (int Tn : kEmulated ? std::vector<int>{1, 5, 21} : std::vector<int>{1, 5, 300, 1025}) {
    for (bool with_segments : {false, true}) {
      // Row 0: padding first (queries there see nothing), then examples 1 and 2, then padding.
      // Row 1: one example then padding.
      std::vector<int> seg((size_t)B * Tn);
      for (int t = 0; t < Tn; ++t) {
        seg[t] = t < 2 ? 0 : (t < Tn / 2 ? 1 : (t < Tn - 3 ? 2 : 0));
        seg[Tn + t] = t < Tn - 1 ? 7 : 0;
      }
      auto allowed = [&](int b, int i, int j) {
        if (j > i) return false;
        if (!with_segments) return true;
        const int si = seg[(size_t)b * Tn + i], sj = seg[(size_t)b * Tn + j];
        return sj != 0 && (si == 0 || si == sj);
      };
      const size_t rows = (size_t)B * H * Tn, total = rows * Tn;
      auto scores = random_values<float>(total, -30, 30);
      auto dprobs = random_values<float>(total, -1, 1);
      Buf<float> dsc(scores), ddp(dprobs);
      Buf<int> dseg(seg);
      Buf<T> dp(total), dds(total);
      const int* segp = with_segments ? dseg.p : nullptr;
      for (int block : {128, 256}) {
        launch(std::string("attention_softmax_forward") + suffix<T>(), (long long)rows, block, dp.p, (const float*)dsc.p, segp, B, H,
               Tn, scale);
        auto probs = widen_all(dp.get());
        std::vector<double> ref(total, 0.0), ref_ds(total, 0.0), terms_ds(total, 0.0);
        bool zeros_exact = true;
        for (size_t r = 0; r < rows; ++r) {
          const int i = (int)(r % Tn), b = (int)(r / Tn / H);
          double m = -INFINITY, s = 0, dot = 0, abs_dot = 0;
          for (int j = 0; j <= i; ++j)
            if (allowed(b, i, j)) m = std::max(m, (double)(scale * scores[r * Tn + j]));
          for (int j = 0; j <= i; ++j)
            if (allowed(b, i, j)) s += std::exp((double)(scale * scores[r * Tn + j]) - m);
          for (int j = 0; j < Tn; ++j) {
            const size_t k = r * Tn + j;
            if (allowed(b, i, j)) ref[k] = std::exp((double)(scale * scores[k]) - m) / s;
            else zeros_exact &= probs[k] == 0.0f;
            dot += (double)probs[k] * dprobs[k];
            abs_dot += std::fabs((double)probs[k] * dprobs[k]);
          }
          for (int j = 0; j < Tn; ++j) {
            const size_t k = r * Tn + j;
            ref_ds[k] = scale * (double)probs[k] * (dprobs[k] - dot);
            // The fp32 sum of p*dp is off by about eps * sum|p*dp| (not eps * |sum|): cancellation
            // in the row's dot product is the condition number that bounds dscores' error.
            terms_ds[k] = scale * (double)probs[k] * (std::fabs(dprobs[k]) + abs_dot);
          }
        }
        const std::string what = tag("attention_softmax_forward", suffix<T>(), {Tn, with_segments, block});
        expect(zeros_exact, what + ": masked probabilities are exactly 0");
        expect_close<T>(what, probs, ref, rtol<T>(), 1e-9);
        launch(std::string("attention_softmax_backward") + suffix<T>(), 7, block, dds.p, (const T*)dp.p, (const float*)ddp.p, B, H, Tn,
               scale);
        expect_close<T>(tag("attention_softmax_backward", suffix<T>(), {Tn, with_segments, block}), widen_all(dds.get()), ref_ds,
                        rtol<T>(), 0, terms_ds);
        // In place: dscores over probs.
        launch(std::string("attention_softmax_backward") + suffix<T>(), (long long)rows, block, dp.p, (const T*)dp.p,
               (const float*)ddp.p, B, H, Tn, scale);
        expect_close<T>(tag("attention_softmax_backward in place", suffix<T>(), {Tn, with_segments, block}), widen_all(dp.get()),
                        ref_ds, rtol<T>(), 0, terms_ds);
      }
    }
  }
}

// ---- generation: key/value cache writes and attention over the cache

template <typename T>
static void check_attention_cached() {
  const int B = 2, Hkv = 2, D = 6, Tmax = kEmulated ? 9 : 40;
  for (int group : {1, 3}) {
    const int Hq = Hkv * group;
    const float scale = 0.4f;
    // Row 0 starts with two padding positions (left padding), row 1 has none; both fill the cache
    // in chunks: a prefill of P positions, then one position at a time.
    std::vector<int> mask((size_t)B * Tmax, 1);
    mask[0] = mask[1] = 0;
    Buf<int> dmask(mask);
    auto k_all = random_values<T>((size_t)B * Tmax * Hkv * D, -1, 1);
    auto v_all = random_values<T>((size_t)B * Tmax * Hkv * D, -1, 1);
    auto q_all = random_values<T>((size_t)B * Tmax * Hq * D, -1, 1);
    Buf<T> kc((size_t)B * Tmax * Hkv * D), vc((size_t)B * Tmax * Hkv * D);
    const int P = kEmulated ? 4 : 17;
    for (int start = 0; start < Tmax;) {
      const int Tq = start == 0 ? P : 1;
      // The chunk's rows [start, start + Tq) of q, k and v, as [B, Tq, H, D].
      auto chunk = [&](const std::vector<float>& all, int H) {
        std::vector<float> c((size_t)B * Tq * H * D);
        for (int b = 0; b < B; ++b)
          for (size_t e = 0; e < (size_t)Tq * H * D; ++e) c[(size_t)b * Tq * H * D + e] = all[((size_t)b * Tmax + start) * H * D + e];
        return c;
      };
      Buf<T> dk(narrow_all<T>(chunk(k_all, Hkv))), dv(narrow_all<T>(chunk(v_all, Hkv))), dq(narrow_all<T>(chunk(q_all, Hq)));
      const long long n = (long long)B * Tq * Hkv * D;
      launch(std::string("kv_cache_write") + suffix<T>(), (n + 255) / 256, 256, kc.p, (const T*)dk.p, B, Tq, Tmax, Hkv, D, start);
      launch(std::string("kv_cache_write") + suffix<T>(), 1, 64, vc.p, (const T*)dv.p, B, Tq, Tmax, Hkv, D, start);
      const long long rows = (long long)B * Tq * Hq;
      Buf<float> scores((size_t)rows * Tmax);
      Buf<T> out((size_t)rows * D);
      const int grid = start == 0 ? 3 : (int)rows;
      launch(std::string("attention_cached") + suffix<T>(), grid, 128, out.p, (const T*)dq.p, (const T*)kc.p, (const T*)vc.p, (const int*)dmask.p,
             scores.p, B, Tq, Tmax, Hq, Hkv, D, start, scale);
      std::vector<double> ref((size_t)rows * D, 0.0);
      bool empty_rows_zero = true;
      auto got = widen_all(out.get());
      for (int b = 0; b < B; ++b)
        for (int i = 0; i < Tq; ++i)
          for (int h = 0; h < Hq; ++h) {
            const size_t row = ((size_t)b * Tq + i) * Hq + h;
            const int pos = start + i, g = h / group;
            std::vector<double> s(pos + 1, -INFINITY);
            double m = -INFINITY, z = 0;
            for (int j = 0; j <= pos; ++j) {
              if (!mask[(size_t)b * Tmax + j]) continue;
              double dot = 0;
              for (int d = 0; d < D; ++d)
                dot += (double)q_all[(((size_t)b * Tmax + pos) * Hq + h) * D + d] * k_all[(((size_t)b * Tmax + j) * Hkv + g) * D + d];
              s[j] = scale * dot;
              m = std::max(m, s[j]);
            }
            if (m == -INFINITY) {
              for (int d = 0; d < D; ++d) empty_rows_zero &= got[row * D + d] == 0.0f;
              continue;
            }
            for (int j = 0; j <= pos; ++j) z += std::exp(s[j] - m);
            for (int j = 0; j <= pos; ++j)
              for (int d = 0; d < D; ++d) ref[row * D + d] += std::exp(s[j] - m) / z * v_all[(((size_t)b * Tmax + j) * Hkv + g) * D + d];
          }
      const std::string what = tag("attention_cached", suffix<T>(), {group, start, Tq, grid});
      expect(empty_rows_zero, what + ": a query that sees no key outputs zeros");
      expect_close<T>(what, got, ref, rtol<T>() * 2, 1e-6);
      start += Tq;
    }
    // The cache holds every position that was written, bit for bit.
    expect(widen_all(kc.get()) == widen_all(narrow_all<T>(k_all)) && widen_all(vc.get()) == widen_all(narrow_all<T>(v_all)),
           tag("kv_cache_write", suffix<T>(), {group}) + ": the cache holds the written keys and values");
  }
}

// ---- swiglu

template <typename T>
static void check_swiglu() {
  const long long n = 10007;
  auto g = random_values<T>(n, -12, 12);
  g[0] = -100;
  g[1] = 100;
  g[2] = 0;
  auto u = random_values<T>(n, -3, 3);
  auto dy = random_values<T>(n, -1, 1);
  Buf<T> dg(narrow_all<T>(g)), du(narrow_all<T>(u)), ddy(narrow_all<T>(dy)), dout(n), ddg(n), ddu(n);
  std::vector<double> ref(n), ref_dg(n), ref_du(n), terms_dg(n);
  for (long long i = 0; i < n; ++i) {
    const double s = 1.0 / (1.0 + std::exp(-(double)g[i]));
    ref[i] = g[i] * s * u[i];
    ref_du[i] = dy[i] * g[i] * s;
    ref_dg[i] = dy[i] * u[i] * s * (1 + g[i] * (1 - s));
    terms_dg[i] = std::fabs(dy[i] * u[i] * s) * (1 + std::fabs(g[i]) * (1 - s));
  }
  launch(std::string("swiglu_forward") + suffix<T>(), 5, 128, dout.p, (const T*)dg.p, (const T*)du.p, n);
  expect_close<T>(tag("swiglu_forward", suffix<T>(), {n}), widen_all(dout.get()), ref, rtol<T>(), 1e-30);
  launch(std::string("swiglu_backward") + suffix<T>(), 100, 256, ddg.p, ddu.p, (const T*)ddy.p, (const T*)dg.p, (const T*)du.p, n);
  expect_close<T>(tag("swiglu_backward dgate", suffix<T>(), {n}), widen_all(ddg.get()), ref_dg, rtol<T>(), 1e-30, terms_dg);
  expect_close<T>(tag("swiglu_backward dup", suffix<T>(), {n}), widen_all(ddu.get()), ref_du, rtol<T>(), 1e-30);
  // In place: gradients over gate and up.
  launch(std::string("swiglu_backward") + suffix<T>(), 100, 256, dg.p, du.p, (const T*)ddy.p, (const T*)dg.p, (const T*)du.p, n);
  expect_close<T>(tag("swiglu_backward in place dgate", suffix<T>(), {n}), widen_all(dg.get()), ref_dg, rtol<T>(), 1e-30, terms_dg);
  expect_close<T>(tag("swiglu_backward in place dup", suffix<T>(), {n}), widen_all(du.get()), ref_du, rtol<T>(), 1e-30);
}

// ---- dropout

// Draws printed by lora-tensor's DropoutMask.draw(seed, index) (Java), for the host check.
struct DrawVector {
  unsigned long long seed, index, draw;
};
static const DrawVector kJavaDraws[] = {
    {0x0000000000000000ull, 0ull, 3793791033ull},          {0x0000000000000000ull, 1ull, 1853398634ull},
    {0x0000000000000000ull, 4294967303ull, 1591702072ull}, {0x0000000000000000ull, 9223372036854775806ull, 4150836530ull},
    {0x0000000000000001ull, 2ull, 4170425070ull},          {0x000000000000002aull, 1000ull, 1432804328ull},
    {0x000000000000002aull, 123456789ull, 1035589989ull},  {0xffffffffffffffffull, 0ull, 3839455607ull},
    {0xffffffffffffffffull, 4294967303ull, 342289534ull},  {0x0123456789abcdefull, 1ull, 3581104795ull},
    {0x8000000000000000ull, 2ull, 1638303231ull},          {0x8000000000000000ull, 9223372036854775806ull, 862258118ull},
};

static void check_dropout_hash_host() {
  for (const auto& v : kJavaDraws) {
    expect(lora4j::dropout_draw(v.seed, v.index) == v.draw,
           "dropout_draw(" + std::to_string(v.seed) + ", " + std::to_string(v.index) + ") == Java's " + std::to_string(v.draw));
  }
}

static unsigned long long threshold_of(float p) { return (unsigned long long)std::llround((double)p * 4294967296.0); }

template <typename T>
static void check_dropout() {
  const long long n = 100003;
  auto x = random_values<T>(n, -2, 2);
  for (float p : {0.0f, 0.1f, 0.5f}) {
    const unsigned long long seed = 0x0123456789abcdefull + (unsigned long long)(p * 1000), thr = threshold_of(p);
    const float scale = 1.0f / (1.0f - p);
    Buf<T> dx(narrow_all<T>(x)), dout(n);
    launch(std::string("dropout") + suffix<T>(), 7, 256, dout.p, (const T*)dx.p, n, seed, thr, scale);
    auto got = dout.get();
    size_t mismatched = 0, kept = 0;
    for (long long i = 0; i < n; ++i) {
      const bool keep = lora4j::dropout_draw(seed, (unsigned long long)i) >= thr;
      kept += keep;
      const float want = keep ? widen<T>(narrow<T>(x[i] * scale)) : 0.0f;
      mismatched += widen<T>(got[i]) != want;
    }
    expect(mismatched == 0, tag("dropout", suffix<T>(), {(long long)(p * 100)}) + ": bit-exact mask and values, " +
                                std::to_string(mismatched) + " off");
    const double keep_rate = (double)kept / n;
    expect(std::fabs(keep_rate - (1 - p)) < 0.01, tag("dropout keep rate", suffix<T>(), {(long long)(p * 100)}));
    // In place gives the same.
    launch(std::string("dropout") + suffix<T>(), 1000, 128, dx.p, (const T*)dx.p, n, seed, thr, scale);
    auto in_place = dx.get();
    expect(std::memcmp(in_place.data(), got.data(), n * sizeof(T)) == 0, tag("dropout in place", suffix<T>(), {(long long)(p * 100)}));
  }
}

// ---- cross-entropy

template <typename T>
static void check_cross_entropy() {
  const int ignore = -100;
  const float scale = 1.0f / 3;
  for (int vocab : {1, 5, 1000, 32003}) {
    for (int block : {128, 256, 1000, 1024}) {
      const int n = 7;
      auto x = random_values<T>((size_t)n * vocab, -8, 8);
      std::vector<int> labels(n);
      for (int i = 0; i < n; ++i) labels[i] = (int)(rng() % vocab);
      labels[2] = ignore;
      labels[5] = vocab;  // out of range: NaN
      Buf<T> dx(narrow_all<T>(x)), dgrad((size_t)n * vocab);
      Buf<int> dl(labels);
      Buf<float> dloss(n);
      launch(std::string("cross_entropy_forward") + suffix<T>(), n, block, dloss.p, (const T*)dx.p, (const int*)dl.p, n, vocab, ignore);
      std::vector<double> ref_loss(n), ref_grad((size_t)n * vocab), terms((size_t)n * vocab, scale);
      for (int i = 0; i < n; ++i) {
        const float* xr = &x[(size_t)i * vocab];
        double m = -INFINITY, s = 0;
        for (int j = 0; j < vocab; ++j) m = std::max(m, (double)xr[j]);
        for (int j = 0; j < vocab; ++j) s += std::exp(xr[j] - m);
        const int l = labels[i];
        const bool valid = l >= 0 && l < vocab;
        ref_loss[i] = l == ignore ? 0.0 : valid ? m + std::log(s) - xr[l] : NAN;
        for (int j = 0; j < vocab; ++j)
          ref_grad[(size_t)i * vocab + j] = l == ignore ? 0.0 : valid ? scale * (std::exp(xr[j] - m) / s - (j == l)) : NAN;
      }
      expect_close<float>(tag("cross_entropy_forward", suffix<T>(), {vocab, block}), dloss.get(), ref_loss, 1e-5, 1e-5);
      launch(std::string("cross_entropy_backward") + suffix<T>(), 3, block, dgrad.p, (const T*)dx.p, (const int*)dl.p, n, vocab, ignore,
             scale);
      expect_close<T>(tag("cross_entropy_backward", suffix<T>(), {vocab, block}), widen_all(dgrad.get()), ref_grad, rtol<T>(), 1e-9, terms);
      launch(std::string("cross_entropy_backward") + suffix<T>(), n, block, dx.p, (const T*)dx.p, (const int*)dl.p, n, vocab, ignore,
             scale);
      expect_close<T>(tag("cross_entropy_backward in place", suffix<T>(), {vocab, block}), widen_all(dx.get()), ref_grad, rtol<T>(), 1e-9, terms);
    }
  }
}

// ---- elementwise, reductions, casts

template <typename T>
static void check_elementwise() {
  const long long n = 100003;
  const std::string s = suffix<T>();
  auto a = random_values<T>(n, -4, 4), b = random_values<T>(n, -4, 4);
  Buf<T> da(narrow_all<T>(a)), db(narrow_all<T>(b)), dout(n);
  std::vector<double> ref(n);

  launch("add" + s, 3, 256, dout.p, (const T*)da.p, (const T*)db.p, n);
  for (long long i = 0; i < n; ++i) ref[i] = round_to<T>((double)a[i] + b[i]);
  expect_close<T>("add" + s, widen_all(dout.get()), ref, 0, 0);

  launch("add_inplace" + s, 1000, 128, dout.p, (const T*)da.p, n);
  for (long long i = 0; i < n; ++i) ref[i] = round_to<T>(ref[i] + a[i]);
  expect_close<T>("add_inplace" + s, widen_all(dout.get()), ref, 0, 0);

  launch("scale_inplace" + s, 2, 1024, dout.p, 0.37f, n);
  for (long long i = 0; i < n; ++i) ref[i] = round_to<T>((float)ref[i] * 0.37f);
  expect_close<T>("scale_inplace" + s, widen_all(dout.get()), ref, 0, 0);

  // The device may fuse y + alpha * x into one FMA: within one rounding of T.
  launch("axpy" + s, 50, 256, -1.5f, (const T*)da.p, dout.p, n);
  std::vector<double> terms(n);
  for (long long i = 0; i < n; ++i) {
    terms[i] = std::fabs(ref[i]) + std::fabs(1.5 * a[i]);
    ref[i] = ref[i] - 1.5 * a[i];
  }
  expect_close<T>("axpy" + s, widen_all(dout.get()), ref, rtol<T>() / 2, 0, terms);

  const int d = 7;
  const long long rows = n / d;
  auto bias = random_values<T>(d, -1, 1);
  Buf<T> dbias(narrow_all<T>(bias));
  da.put(narrow_all<T>(a));
  launch("bias_add" + s, 11, 128, da.p, (const T*)dbias.p, rows, d);
  std::vector<double> ref_b(a.begin(), a.end());
  for (long long i = 0; i < rows * d; ++i) ref_b[i] = round_to<T>((double)a[i] + bias[i % d]);
  expect_close<T>("bias_add" + s + " (the tail past rows * d untouched)", widen_all(da.get()), ref_b, 0, 0);

  Buf<float> dsum(1);
  device_zero(dsum.p, sizeof(float));
  launch("sum_squares" + s, 40, 256, dsum.p, (const T*)db.p, n);
  launch("sum_squares" + s, 1, 1024, dsum.p, (const T*)db.p, n);  // accumulates
  double ss = 0;
  for (long long i = 0; i < n; ++i) ss += (double)b[i] * b[i];
  expect_close<float>("sum_squares" + s + " twice", dsum.get(), {2 * ss}, 1e-5, 0);
}

static void check_sum_f32() {
  const long long n = 1234567;
  auto x = random_values<float>(n, -1, 2);
  Buf<float> dx(x), dsum(1);
  device_zero(dsum.p, sizeof(float));
  launch("sum_f32", 200, 512, dsum.p, (const float*)dx.p, n);
  launch("sum_f32", 7, 33, dsum.p, (const float*)dx.p, n);  // accumulates; a block of one warp and one lane
  double s = 0;
  for (float v : x) s += v;
  expect_close<float>("sum_f32 twice", dsum.get(), {2 * s}, 1e-5, 0);
}

template <typename SRC, typename DST>
static void check_cast(const char* name) {
  std::vector<float> v = random_values<float>(4099, -70000, 70000);
  const float specials[] = {0.0f, -0.0f, 1.0f, INFINITY, -INFINITY, NAN, 1e-40f /* subnormal */, 65504.0f, 65520.0f /* f16 overflow */,
                            1.00390625f /* bf16 tie, to even: 1 */, 1.01171875f /* bf16 tie, to even: up */, 1.0f + 1.0f / 4096,
                            3.0e38f, 5.9604645e-08f /* smallest f16 subnormal */, 2.98e-08f};
  for (size_t i = 0; i < sizeof(specials) / sizeof(float); ++i) v[i] = specials[i];
  for (auto& x : v) x = widen<SRC>(narrow<SRC>(x));
  Buf<SRC> ds(narrow_all<SRC>(v));
  Buf<DST> dd(v.size());
  launch(name, 2, 128, dd.p, (const SRC*)ds.p, (long long)v.size());
  auto got = dd.get();
  size_t bad = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const DST want = narrow<DST>(v[i]);
    const bool same = std::isnan(v[i]) ? std::isnan(widen<DST>(got[i])) : std::memcmp(&want, &got[i], sizeof(DST)) == 0;
    if (!same && bad++ == 0) std::printf("  %s: [%zu] %.9g -> %.9g, want %.9g\n", name, i, v[i], widen<DST>(got[i]), widen<DST>(want));
  }
  expect(bad == 0, std::string(name) + ": bit-exact round to nearest even");
}

// Hand-picked bf16 ties: independent of the host conversion the other checks trust.
static void check_bf16_ties_host() {
  auto bits = [](float f) {
    __nv_bfloat16 b = __float2bfloat16_rn(f);
    unsigned short u;
    std::memcpy(&u, &b, 2);
    return u;
  };
  expect(bits(1.00390625f) == 0x3F80, "host bf16 tie 1.00390625 -> 0x3F80 (even)");
  expect(bits(1.01171875f) == 0x3F82, "host bf16 tie 1.01171875 -> 0x3F82 (even)");
  expect(bits(1.0f + 3.0f / 512) == 0x3F81, "host bf16 1 + 0.75 ulp rounds up to 0x3F81");
}

// ---- optimizer steps

// The host references follow Backend's javadoc (torch's single-tensor order). Each product and
// sum is a separate statement on volatile floats, so the host compiler cannot contract them.
static float rn_mul(float a, float b) { volatile float r = a * b; return r; }
static float rn_add(float a, float b) { volatile float r = a + b; return r; }

struct AdamConsts {
  float decay, w, b2, c2, bc2, eps, step_size, grad_scale;
};

static AdamConsts adam_consts(double lr, double beta1, double beta2, double eps, double wd, int step, float grad_scale) {
  const double bc1 = 1 - std::pow(beta1, step), bc2 = 1 - std::pow(beta2, step);
  return {(float)(1 - lr * wd), (float)(1 - beta1), (float)beta2, (float)(1 - beta2), (float)std::sqrt(bc2), (float)eps, (float)(-(lr / bc1)),
          grad_scale};
}

static void adamw_host(std::vector<float>& p, const std::vector<float>& g, std::vector<float>& m, std::vector<float>& v,
                       std::vector<float>* vmax, const AdamConsts& k) {
  for (size_t i = 0; i < p.size(); ++i) {
    const float gi = rn_mul(g[i], k.grad_scale);
    const float pi = rn_mul(p[i], k.decay);
    const float diff = gi - m[i];
    const float mi = k.w < 0.5f ? std::fmaf(k.w, diff, m[i]) : std::fmaf(k.w - 1.0f, diff, gi);
    const float vi = std::fmaf(rn_mul(k.c2, gi), gi, rn_mul(v[i], k.b2));
    float u = vi;
    if (vmax) {
      u = std::isnan((*vmax)[i]) || std::isnan(vi) ? NAN : std::max((*vmax)[i], vi);
      (*vmax)[i] = u;
    }
    const float denom = rn_add(std::sqrt(u) / k.bc2, k.eps);
    p[i] = rn_add(pi, rn_mul(k.step_size, mi) / denom);
    m[i] = mi;
    v[i] = vi;
  }
}

template <typename T>
static std::vector<double> as_double(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

static void check_adamw() {
  const long long n = 100003;
  for (const bool amsgrad : {false, true}) {
    for (const double beta1 : {0.9, 0.3}) {  // 0.3: lerp's weight 0.7 takes the other branch
      std::vector<float> p = random_values<float>(n, -2, 2), m(n, 0.0f), v(n, 0.0f), vmax(n, 0.0f);
      Buf<float> dp(p), dm(m), dv(v), dvmax(vmax), dg(n);
      for (int step = 1; step <= 3; ++step) {
        auto g = random_values<float>(n, step == 2 ? -1e-3f : -3, step == 2 ? 1e-3f : 3);
        g[7] = 0;
        if (step == 3) g[11] = NAN;  // a NaN gradient reaches p, m, v and vmax of its element only
        dg.put(g);
        const AdamConsts k = adam_consts(3e-2, beta1, 0.999, 1e-8, 0.1, step, step == 1 ? 1.0f : 0.37f);
        launch("adamw_step_f32", step == 2 ? 3 : 400, step == 2 ? 1024 : 256, dp.p, (const float*)dg.p, dm.p, dv.p,
               amsgrad ? dvmax.p : (float*)nullptr, n, k.decay, k.w, k.b2, k.c2, k.bc2, k.eps, k.step_size, k.grad_scale);
        adamw_host(p, g, m, v, amsgrad ? &vmax : nullptr, k);
      }
      const std::string what = std::string("adamw_step_f32") + (amsgrad ? " amsgrad" : "") + " beta1 " + std::to_string(beta1);
      // Same operations, same roundings: any difference is a kernel that computes something else.
      expect_close<float>(what + " p", dp.get(), as_double(p), 0, 0);
      expect_close<float>(what + " m", dm.get(), as_double(m), 0, 0);
      expect_close<float>(what + " v", dv.get(), as_double(v), 0, 0);
      if (amsgrad) expect_close<float>(what + " vmax", dvmax.get(), as_double(vmax), 0, 0);
    }
  }
}

// bitsandbytes' dynamic maps as lora4j's DynamicQuantization builds them: signed then unsigned.
static std::vector<float> dynamic_codes() {
  std::vector<float> all;
  for (const bool is_signed : {true, false}) {
    std::vector<double> v;
    for (int i = 0; i < 7; ++i) {
      const int steps = is_signed ? 1 << i : 1 << (i + 1);
      const double scale = std::pow(10.0, i - 6);
      for (int j = 0; j < steps; ++j) {
        const double mid = scale * ((0.1 + 0.9 * j / steps) + (0.1 + 0.9 * (j + 1) / steps)) / 2;
        v.push_back(mid);
        if (is_signed) v.push_back(-mid);
      }
    }
    v.push_back(0);
    v.push_back(1);
    std::sort(v.begin(), v.end());
    for (double x : v) all.push_back((float)x);
  }
  return all;
}

static int quantize_host(float x, const float* code) {
  if (!(x > code[0])) return 0;
  if (x >= code[255]) return 255;
  int lo = 0, hi = 255;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (code[mid] <= x) lo = mid;
    else hi = mid;
  }
  return x > rn_mul(rn_add(code[lo], code[hi]), 0.5f) ? hi : lo;
}

static void check_adamw8bit() {
  const long long n = 100003;  // 391 blocks of 256, the last one of 163
  const auto codes = dynamic_codes();
  const float* code_s = codes.data();
  const float* code_u = codes.data() + 256;
  expect(codes.size() == 512 && code_s[127] == 0.0f && code_u[0] == 0.0f && code_s[255] == 1.0f, "dynamic codes: 0 at 127 (signed) and 0 (unsigned)");
  for (const int block : {256, 100, 1024}) {
    const long long blocks = (n + 255) / 256;
    std::vector<float> p = random_values<float>(n, -2, 2), mabs(blocks, 0.0f), vabs(blocks, 0.0f);
    std::vector<unsigned char> mq(n, 0), vq(n, 0);
    Buf<float> dp(p), dg(n), dmabs(mabs), dvabs(vabs), dcodes(codes);
    Buf<unsigned char> dmq(mq), dvq(vq);
    for (int step = 1; step <= 3; ++step) {
      auto g = random_values<float>(n, step == 2 ? -1e-3f : -3, step == 2 ? 1e-3f : 3);
      for (long long i = 512; i < 768; ++i) g[i] = 0;  // an all-zero block: absmax 0 stores the code of 0
      dg.put(g);
      const AdamConsts k = adam_consts(1e-2, block == 100 ? 0.3 : 0.9, 0.999, 1e-8, 0.1, step, 0.5f);
      launch("adamw8bit_step_f32", block == 1024 ? 7 : blocks, block, dp.p, (const float*)dg.p, dmq.p, dmabs.p, dvq.p, dvabs.p,
             (const float*)dcodes.p, n, k.decay, k.w, k.b2, k.c2, k.bc2, k.eps, k.step_size, k.grad_scale);
      for (long long b = 0; b < blocks; ++b) {
        const long long first = b * 256, last = std::min(n, first + 256);
        std::vector<float> m(256), v(256);
        float m_max = 0, v_max = 0;
        for (long long i = first; i < last; ++i) {
          const float gi = rn_mul(g[i], k.grad_scale);
          const float pi = rn_mul(p[i], k.decay);
          const float m0 = rn_mul(code_s[mq[i]], mabs[b]);
          const float diff = gi - m0;
          const float mi = k.w < 0.5f ? std::fmaf(k.w, diff, m0) : std::fmaf(k.w - 1.0f, diff, gi);
          const float vi = std::fmaf(rn_mul(k.c2, gi), gi, rn_mul(rn_mul(code_u[vq[i]], vabs[b]), k.b2));
          const float denom = rn_add(std::sqrt(vi) / k.bc2, k.eps);
          p[i] = rn_add(pi, rn_mul(k.step_size, mi) / denom);
          m[i - first] = mi;
          v[i - first] = vi;
          m_max = std::max(m_max, std::fabs(mi));
          v_max = std::max(v_max, vi);
        }
        mabs[b] = m_max;
        vabs[b] = v_max;
        for (long long i = first; i < last; ++i) {
          mq[i] = (unsigned char)(m_max == 0 ? 127 : quantize_host(m[i - first] / m_max, code_s));
          vq[i] = (unsigned char)(v_max == 0 ? 0 : quantize_host(v[i - first] / v_max, code_u));
        }
      }
    }
    const std::string what = "adamw8bit_step_f32 block " + std::to_string(block);
    expect_close<float>(what + " p", dp.get(), as_double(p), 0, 0);
    expect_close<float>(what + " m absmax", dmabs.get(), as_double(mabs), 0, 0);
    expect_close<float>(what + " v absmax", dvabs.get(), as_double(vabs), 0, 0);
    expect(dmq.get() == mq, what + " m codes bit for bit");
    expect(dvq.get() == vq, what + " v codes bit for bit");
    expect(mabs[2] == 0.0f && mq[600] == 127, what + ": the all-zero block keeps absmax 0 and the code of 0");
  }
}

static void check_sgd() {
  const long long n = 100003;
  // flags: 1 weight decay, 2 momentum, 4 Nesterov.
  for (const int flags : {0, 1, 2, 3, 7}) {
    std::vector<float> p = random_values<float>(n, -2, 2), buf(n, 0.0f);
    Buf<float> dp(p), dbuf(buf), dg(n);
    const float wd = 0.01f, mu = 0.9f, c = (float)(1 - 0.1), a = (float)-0.05;
    for (int step = 1; step <= 3; ++step) {
      auto g = random_values<float>(n, -1, 1);
      dg.put(g);
      const bool first = step == 1;
      const float grad_scale = step == 3 ? 0.5f : 1.0f;
      launch("sgd_step_f32", 300, 256, dp.p, (const float*)dg.p, (flags & 2) ? dbuf.p : (float*)nullptr, n, wd, mu, c, a,
             flags | (first ? 8 : 0), grad_scale);
      for (long long i = 0; i < n; ++i) {
        float gi = rn_mul(g[i], grad_scale);
        if (flags & 1) gi = std::fmaf(wd, p[i], gi);
        if (flags & 2) {
          buf[i] = first ? gi : std::fmaf(c, gi, rn_mul(buf[i], mu));
          gi = (flags & 4) ? std::fmaf(mu, buf[i], gi) : buf[i];
        }
        p[i] = std::fmaf(a, gi, p[i]);
      }
    }
    const std::string what = "sgd_step_f32 flags " + std::to_string(flags);
    expect_close<float>(what + " p", dp.get(), as_double(p), 0, 0);
    if (flags & 2) expect_close<float>(what + " buf", dbuf.get(), as_double(buf), 0, 0);
  }
}

template <typename T>
static void check_clip_by_norm() {
  const long long n = 4099;
  const std::string name = std::string("clip_by_norm") + suffix<T>();
  auto x = random_values<T>(n, -1, 1);
  Buf<T> dx(narrow_all<T>(x));
  Buf<float> dss(1);
  for (const float ss : {400.0f, 0.25f, (float)NAN}) {
    dss.put({ss});
    dx.put(narrow_all<T>(x));
    launch(name, 5, 256, dx.p, (const float*)dss.p, 2.0f, n);
    float coef = rn_mul(1.0f / rn_add(std::sqrt(ss), 1e-6f), 2.0f);
    coef = coef > 1.0f ? 1.0f : coef;
    std::vector<double> ref(n);
    for (long long i = 0; i < n; ++i) ref[i] = round_to<T>(x[i] * coef);
    expect_close<T>(name + " sum of squares " + std::to_string(ss), widen_all(dx.get()), ref, 0, 0);
  }
}

// ---- > 2^32 elements (--large)

static void check_large() {
  const long long n = (1ll << 32) + 4099;
  const size_t free_b = device_free_bytes();
  if (free_b < (size_t)n * 2 * 2 + (1ull << 30)) {
    std::printf("SKIP --large: %zu GiB free, need %lld\n", free_b >> 30, (n * 4) >> 30);
    return;
  }
  using T = __nv_bfloat16;
  Buf<T> dx(n), dout(n);
  const T one = __float2bfloat16_rn(1.0f);
  std::vector<T> ones(1 << 20, one);
  for (long long off = 0; off < n; off += ones.size())
    copy_to_device(dx.p + off, ones.data(), std::min<long long>(ones.size(), n - off) * sizeof(T));
  const unsigned long long seed = 99, thr = threshold_of(0.5f);
  launch("dropout_bf16", 65535, 256, dout.p, (const T*)dx.p, n, seed, thr, 2.0f);
  const long long tail = 1 << 20;
  std::vector<T> got(tail);
  copy_to_host(got.data(), dout.p + (n - tail), tail * sizeof(T));
  size_t bad = 0;
  for (long long k = 0; k < tail; ++k) {
    const long long i = n - tail + k;
    bad += __bfloat162float(got[k]) != (lora4j::dropout_draw(seed, (unsigned long long)i) >= thr ? 2.0f : 0.0f);
  }
  expect(bad == 0, "dropout_bf16 past 2^32 elements: mask matches the host at the tail");
  // bias_add takes the 64-bit path of for_each_index.
  const int d = 4099;
  std::vector<T> bias(d);
  for (int j = 0; j < d; ++j) bias[j] = __float2bfloat16_rn((float)(j % 17));
  Buf<T> dbias(bias);
  launch("bias_add_bf16", 4096, 256, dx.p, (const T*)dbias.p, n / d, d);
  copy_to_host(got.data(), dx.p + (n - tail), tail * sizeof(T));
  bad = 0;
  const long long covered = (n / d) * d;
  for (long long k = 0; k < tail; ++k) {
    const long long i = n - tail + k;
    const float want = i < covered ? 1.0f + (float)((i % d) % 17) : 1.0f;
    bad += __bfloat162float(got[k]) != want;
  }
  expect(bad == 0, "bias_add_bf16 past 2^32 elements: tail matches");
}

// ---- the exported names

static std::vector<std::string> expected_names() {
  std::vector<std::string> names;
  for (const char* base : {"embedding_forward", "rmsnorm_forward", "rmsnorm_backward", "rope", "attention_pack", "attention_unpack",
                           "attention_softmax_forward", "attention_softmax_backward", "swiglu_forward", "swiglu_backward", "dropout",
                           "cross_entropy_forward", "cross_entropy_backward", "add", "add_inplace", "scale_inplace", "axpy", "bias_add",
                           "sum_squares", "clip_by_norm", "kv_cache_write", "attention_cached"})
    for (const char* s : {"_f32", "_bf16", "_f16"}) names.push_back(std::string(base) + s);
  names.push_back("sum_f32");
  names.push_back("adamw_step_f32");
  names.push_back("sgd_step_f32");
  names.push_back("adamw8bit_step_f32");
  for (const char* c : {"cast_f32_bf16", "cast_f32_f16", "cast_bf16_f32", "cast_bf16_f16", "cast_f16_f32", "cast_f16_bf16"})
    names.push_back(c);
  return names;
}

static void check_names() {
  const auto expected = expected_names();
  const auto present = exported_kernels(expected);
  for (const auto& n : expected) expect(present.count(n) == 1, "kernel " + n + " exported");
  expect(present.size() == expected.size(),
         "the module holds exactly the " + std::to_string(expected.size()) + " kernels of KERNELS.md (has " + std::to_string(present.size()) + ")");
}

template <typename T>
static void check_dtype() {
  check_embedding<T>();
  check_rmsnorm<T>();
  check_rope<T>();
  check_attention_layout<T>();
  check_attention_softmax<T>();
  check_attention_cached<T>();
  check_swiglu<T>();
  check_dropout<T>();
  check_cross_entropy<T>();
  check_elementwise<T>();
  check_clip_by_norm<T>();
}

int main(int argc, char** argv) {
#ifdef LORA4J_EMULATE
  (void)argc;
  (void)argv;
  const char* fatbin = nullptr;
  const bool large = false;
#else
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s lora4j_kernels.fatbin [--large]\n", argv[0]);
    return 2;
  }
  const char* fatbin = argv[1];
  const bool large = argc > 2 && std::strcmp(argv[2], "--large") == 0;
#endif
  check_dropout_hash_host();
  check_bf16_ties_host();
  if (!open_backend(fatbin)) {
    std::printf("no GPU: ran the %d host checks only, %d failed\n", checks, failures);
    return failures ? 1 : 0;
  }
  check_names();
  check_dtype<float>();
  check_dtype<__nv_bfloat16>();
  check_dtype<__half>();
  check_sum_f32();
  check_adamw();
  check_adamw8bit();
  check_sgd();
  check_cast<float, __nv_bfloat16>("cast_f32_bf16");
  check_cast<float, __half>("cast_f32_f16");
  check_cast<__nv_bfloat16, float>("cast_bf16_f32");
  check_cast<__nv_bfloat16, __half>("cast_bf16_f16");
  check_cast<__half, float>("cast_f16_f32");
  check_cast<__half, __nv_bfloat16>("cast_f16_bf16");
  if (large) check_large();
  std::printf("%s: %d checks, %d failed\n", backend_name(), checks, failures);
  return failures ? 1 : 0;
}
