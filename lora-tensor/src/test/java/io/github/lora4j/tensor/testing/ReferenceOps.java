package io.github.lora4j.tensor.testing;

import io.github.lora4j.tensor.DropoutMask;

/**
 * Plain-Java references of the {@link io.github.lora4j.tensor.Backend} ops in double precision,
 * written from the formulas (transformers' Llama modules) rather than from any backend, to test
 * every backend's forward values and, through {@link GradientCheck}, its backward ops. Arrays are
 * row-major; shapes are passed as ints.
 */
public final class ReferenceOps {
  private ReferenceOps() {}

  /** {@code op(a) @ op(b)} for 2-D {@code a [aRows, aCols]} and {@code b [bRows, bCols]}. */
  public static double[] matmul(double[] a, int aRows, int aCols, boolean transA, double[] b, int bRows, int bCols, boolean transB) {
    int m = transA ? aCols : aRows;
    int k = transA ? aRows : aCols;
    int n = transB ? bRows : bCols;
    if ((transB ? bCols : bRows) != k) {
      throw new IllegalArgumentException("inner dims differ");
    }
    double[] c = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          double av = transA ? a[p * aCols + i] : a[i * aCols + p];
          double bv = transB ? b[j * bCols + p] : b[p * bCols + j];
          s += av * bv;
        }
        c[i * n + j] = s;
      }
    }
    return c;
  }

  /** {@code x [n, in] @ w^T + bias} with {@code w [out, in]}; bias may be null. */
  public static double[] linear(double[] x, int n, int in, double[] w, int out, double[] bias) {
    double[] y = matmul(x, n, in, false, w, out, in, true);
    if (bias != null) {
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < out; j++) {
          y[i * out + j] += bias[j];
        }
      }
    }
    return y;
  }

  /** Rows {@code ids} of {@code table [v, d]}. */
  public static double[] embedding(double[] table, int d, int[] ids) {
    double[] out = new double[ids.length * d];
    for (int i = 0; i < ids.length; i++) {
      System.arraycopy(table, ids[i] * d, out, i * d, d);
    }
    return out;
  }

  /** {@code 1 / sqrt(mean(x^2) + eps)} per row of {@code x [n, d]}. */
  public static double[] rmsNormRstd(double[] x, int n, int d, double eps) {
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      double ss = 0;
      for (int j = 0; j < d; j++) {
        ss += x[i * d + j] * x[i * d + j];
      }
      r[i] = 1 / Math.sqrt(ss / d + eps);
    }
    return r;
  }

  /** Llama's RMSNorm, {@code w * (x * rsqrt(mean(x^2) + eps))}, of {@code x [n, d]}. */
  public static double[] rmsNorm(double[] x, int n, int d, double[] w, double eps) {
    double[] r = rmsNormRstd(x, n, d, eps);
    double[] out = new double[n * d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        out[i * d + j] = w[j] * (x[i * d + j] * r[i]);
      }
    }
    return out;
  }

  /**
   * Rotary embedding with rotate_half on {@code x [n, heads, headDim]}: {@code out = x cos +
   * rotate_half(x) sin}, {@code rotate_half(x) = cat(-x2, x1)}, angle {@code positions[r] *
   * invFreq[i]} multiplied in fp32 as transformers does, cos and sin in double. {@code inverse}
   * negates sin.
   */
  public static double[] rope(double[] x, int n, int heads, int headDim, int[] positions, float[] invFreq, boolean inverse) {
    int half = headDim / 2;
    double[] out = new double[x.length];
    for (int r = 0; r < n; r++) {
      for (int i = 0; i < half; i++) {
        float angle = (float) positions[r] * invFreq[i];
        double c = Math.cos(angle);
        double s = inverse ? -Math.sin(angle) : Math.sin(angle);
        for (int h = 0; h < heads; h++) {
          int base = (r * heads + h) * headDim;
          double x1 = x[base + i];
          double x2 = x[base + half + i];
          out[base + i] = x1 * c - x2 * s;
          out[base + half + i] = x2 * c + x1 * s;
        }
      }
    }
    return out;
  }

  /**
   * Whether query {@code i} sees key {@code j} in a row with segment ids {@code seg} (null: one
   * segment): {@code j <= i}, key j not padding, and a query inside a segment sees only its own.
   */
  public static boolean attends(int[] seg, int rowOffset, int i, int j) {
    if (j > i) {
      return false;
    }
    if (seg == null) {
      return true;
    }
    int si = seg[rowOffset + i];
    int sj = seg[rowOffset + j];
    return sj != 0 && (si == 0 || si == sj);
  }

  /** The attention probabilities {@code [b, hq, t, t]}; rows that see no key are zeros. */
  public static double[] attentionProbs(double[] q, double[] k, int b, int t, int hq, int hkv, int d, int[] segments, double scale) {
    int group = hq / hkv;
    double[] probs = new double[b * hq * t * t];
    double[] row = new double[t];
    for (int bi = 0; bi < b; bi++) {
      for (int h = 0; h < hq; h++) {
        int kvh = h / group;
        for (int i = 0; i < t; i++) {
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < t; j++) {
            if (!attends(segments, bi * t, i, j)) {
              row[j] = Double.NEGATIVE_INFINITY;
              continue;
            }
            double s = 0;
            for (int e = 0; e < d; e++) {
              s += q[((bi * t + i) * hq + h) * d + e] * k[((bi * t + j) * hkv + kvh) * d + e];
            }
            row[j] = s * scale;
            max = Math.max(max, row[j]);
          }
          if (max == Double.NEGATIVE_INFINITY) {
            continue;
          }
          double sum = 0;
          for (int j = 0; j < t; j++) {
            row[j] = row[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(row[j] - max);
            sum += row[j];
          }
          for (int j = 0; j < t; j++) {
            probs[((bi * hq + h) * t + i) * t + j] = row[j] / sum;
          }
        }
      }
    }
    return probs;
  }

  /** Causal grouped-query attention: q {@code [b, t, hq, d]}, k and v {@code [b, t, hkv, d]}, out like q. */
  public static double[] attention(double[] q, double[] k, double[] v, int b, int t, int hq, int hkv, int d, int[] segments, double scale) {
    int group = hq / hkv;
    double[] probs = attentionProbs(q, k, b, t, hq, hkv, d, segments, scale);
    double[] out = new double[q.length];
    for (int bi = 0; bi < b; bi++) {
      for (int h = 0; h < hq; h++) {
        for (int i = 0; i < t; i++) {
          for (int j = 0; j < t; j++) {
            double p = probs[((bi * hq + h) * t + i) * t + j];
            if (p == 0) {
              continue;
            }
            for (int e = 0; e < d; e++) {
              out[((bi * t + i) * hq + h) * d + e] += p * v[((bi * t + j) * hkv + h / group) * d + e];
            }
          }
        }
      }
    }
    return out;
  }

  /** {@code silu(gate) * up}, {@code silu(g) = g / (1 + exp(-g))}. */
  public static double[] swiglu(double[] gate, double[] up) {
    double[] out = new double[gate.length];
    for (int i = 0; i < gate.length; i++) {
      out[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
    }
    return out;
  }

  /** Inverted dropout with {@link DropoutMask}'s mask and the scale {@code 1 / (1 - p)} rounded to float. */
  public static double[] dropout(double[] x, float p, long seed) {
    long threshold = DropoutMask.threshold(p);
    double scale = 1f / (1f - p);
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = DropoutMask.keep(seed, i, threshold) ? x[i] * scale : 0;
    }
    return out;
  }

  /** {@code sum over rows with label != ignoreIndex of logsumexp(logits[row]) - logits[row, label]}. */
  public static double crossEntropySum(double[] logits, int n, int v, int[] labels, int ignoreIndex) {
    double total = 0;
    for (int i = 0; i < n; i++) {
      if (labels[i] == ignoreIndex) {
        continue;
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < v; j++) {
        max = Math.max(max, logits[i * v + j]);
      }
      double sum = 0;
      for (int j = 0; j < v; j++) {
        sum += Math.exp(logits[i * v + j] - max);
      }
      total += max + Math.log(sum) - logits[i * v + labels[i]];
    }
    return total;
  }
}
