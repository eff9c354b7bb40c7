package io.github.lora4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;

/** The dynamic 8-bit codes and the nearest-code search. */
class DynamicQuantizationTest {

  @Example
  void codesAreBitsandbytesDynamicMaps() {
    float[] signed = DynamicQuantization.signedCode();
    float[] unsigned = DynamicQuantization.unsignedCode();
    for (float[] code : new float[][] {signed, unsigned}) {
      for (int i = 1; i < 256; i++) {
        assertTrue(code[i - 1] < code[i], "strictly ascending at " + i);
      }
      assertEquals(1f, code[255]);
    }
    assertEquals(0f, signed[127], "127 negative codes, then 0");
    assertEquals(0f, unsigned[0]);
    // The largest magnitude below 1: the midpoint of the last of 64 (signed) or 128 (unsigned) steps of [0.1, 1].
    assertEquals((float) (1 - 0.9 / 128), signed[254]);
    assertEquals((float) -(1 - 0.9 / 128), signed[0], "no -1: the signed map is asymmetric, as bitsandbytes'");
    assertEquals((float) (1 - 0.9 / 256), unsigned[254]);
    // The smallest magnitudes: 1e-6 times the midpoint of [0.1, 1] (signed, one step) and of [0.1, 0.55] (unsigned, two).
    assertEquals((float) (0.55e-6), signed[128]);
    assertEquals((float) (0.325e-6), unsigned[1]);
  }

  @Property(tries = 3000)
  void quantizeFindsTheNearestCode(@ForAll @FloatRange(min = -1.2f, max = 1.2f) float x, @ForAll boolean signed) {
    float[] code = signed ? DynamicQuantization.signedCode() : DynamicQuantization.unsignedCode();
    int q = DynamicQuantization.quantize(x, code);
    double best = Double.POSITIVE_INFINITY;
    for (float c : code) {
      best = Math.min(best, Math.abs((double) c - x));
    }
    // Nearest up to the rounding of the float midpoint between two codes.
    assertTrue(Math.abs((double) code[q] - x) <= best + Math.ulp(x), x + " went to code " + q + " = " + code[q] + ", nearest is " + best + " away");
  }

  @Example
  void blocksCountStartedBlocks() {
    assertEquals(0, DynamicQuantization.blocks(0));
    assertEquals(1, DynamicQuantization.blocks(1));
    assertEquals(1, DynamicQuantization.blocks(256));
    assertEquals(2, DynamicQuantization.blocks(257));
  }
}
