package io.github.lora4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RopeScalingTest {

  /** inv_freq from transformers 5.17 on torch 2.11 (tools/golden/hf_io_goldens.py). */
  static JsonObject goldens() throws IOException {
    return JsonParser.parseString(Files.readString(ModelConfigTest.resource("hf-goldens.json"))).getAsJsonObject()
        .getAsJsonObject("cases");
  }

  static ModelConfig goldenConfig(JsonObject c, Path dir) throws IOException {
    JsonElement config = c.get("config");
    if (config.isJsonPrimitive()) {
      return ModelConfig.load(ModelConfigTest.resource(config.getAsString()));
    }
    Path file = dir.resolve("config.json");
    Files.writeString(file, config.toString());
    return ModelConfig.load(file);
  }

  private static float[] floats(JsonArray a) {
    float[] f = new float[a.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = a.get(i).getAsFloat();
    }
    return f;
  }

  private static int maxUlps(float[] a, float[] b) {
    int max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(Float.floatToIntBits(a[i]) - Float.floatToIntBits(b[i])));
    }
    return max;
  }

  @Test
  void equalsTransformersInvFreqBitForBit(@TempDir Path dir) throws IOException {
    for (Map.Entry<String, JsonElement> e : goldens().entrySet()) {
      JsonObject c = e.getValue().getAsJsonObject();
      ModelConfig config = goldenConfig(c, dir);
      float[] ours = config.ropeInverseFrequencies();
      float[] cpu = floats(c.getAsJsonArray("inv_freq_cpu"));
      assertEquals(config.headDim() / 2, ours.length);
      // Tolerance 0: every bit, against transformers on CPU.
      assertArrayEquals(cpu, ours, 0f, e.getKey() + ": differs from transformers (CPU) by up to "
          + maxUlps(cpu, ours) + " ulps");
      if (c.has("inv_freq_cuda")) {
        float[] cuda = floats(c.getAsJsonArray("inv_freq_cuda"));
        int ulps = maxUlps(cuda, ours);
        assertTrue(ulps <= 2, e.getKey() + ": transformers on CUDA differs by " + ulps + " ulps, more than the 2 seen");
      }
    }
  }

  @Test
  void handComputedDefault() {
    // head_dim 4, theta 10000: 1/10000^(0/4), 1/10000^(2/4).
    assertArrayEquals(new float[] {1f, 0.01f}, new RopeScaling.Default().inverseFrequencies(4, 10000), 0f);
    // head_dim 8: 1, 10^-1, 10^-2, 10^-3, each rounded to float.
    assertArrayEquals(new float[] {1f, 0.1f, 0.01f, 0.001f}, new RopeScaling.Default().inverseFrequencies(8, 10000),
        1e-9f);
    assertArrayEquals(new float[] {0.5f, 0.005f}, new RopeScaling.Linear(2).inverseFrequencies(4, 10000), 0f);
  }

  /**
   * Llama 3.1 (head_dim 128, theta 500000, factor 8, low 1, high 4, original 8192): the three bands,
   * hand-computed in double from the formula and compared at float precision.
   */
  @Test
  void handComputedLlama3() {
    float[] f = new RopeScaling.Llama3(8, 1, 4, 8192).inverseFrequencies(128, 500000);
    assertEquals(64, f.length);
    // i = 0: wavelength 2π < 8192/4 = 2048, kept.
    assertEquals(1.0, f[0], 0);
    // i = 20: 1/500000^(40/128) = 0.0165604400809944; wavelength 379.4, kept.
    assertEquals(0.0165604400809944, f[20], 0.0165604400809944 * 1e-6);
    // i = 30: 0.0021311195369119653, wavelength 2948.3 in [2048, 8192]: smooth = (8192/2948.3 - 1)/3
    // = 0.59285, blended to (1 - smooth) * x / 8 + smooth * x = 0.0013718935677611381.
    assertEquals(0.0013718935677611381, f[30], 0.0013718935677611381 * 1e-6);
    // i = 40: 0.0002742481756762073, wavelength 22910 > 8192: divided by 8.
    assertEquals(3.428102195952591e-05, f[40], 3.428102195952591e-05 * 1e-6);
    // i = 63: 2.455140791131609e-06 / 8.
    assertEquals(3.068925988914511e-07, f[63], 3.068925988914511e-07 * 1e-6);
  }

  @Property
  void frequenciesFallAndLlama3StaysWithinItsBounds(@ForAll @IntRange(min = 1, max = 128) int halfDim,
      @ForAll @DoubleRange(min = 100, max = 1e7) double theta, @ForAll @DoubleRange(min = 1, max = 64) double factor) {
    int headDim = 2 * halfDim;
    float[] plain = new RopeScaling.Default().inverseFrequencies(headDim, theta);
    float[] scaled = new RopeScaling.Llama3(factor, 1, 4, 8192).inverseFrequencies(headDim, theta);
    for (int i = 0; i < plain.length; i++) {
      assertTrue(plain[i] > 0 && plain[i] <= 1, "inv_freq in (0, 1]");
      if (i > 0) {
        assertTrue(plain[i] < plain[i - 1], "inv_freq falls");
      }
      // Within float rounding of [plain / factor, plain].
      assertTrue(scaled[i] <= plain[i] * (1 + 1e-6f) && scaled[i] >= plain[i] / factor * (1 - 1e-6f),
          i + ": " + scaled[i] + " not in [" + plain[i] / factor + ", " + plain[i] + "]");
    }
  }
}
