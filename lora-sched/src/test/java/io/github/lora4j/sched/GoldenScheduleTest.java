package io.github.lora4j.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every schedule against the rates transformers' {@code get_scheduler} gave, recorded by {@code
 * tools/golden/schedules.py} into {@code golden/schedules.json}. Each case becomes one test, named by its
 * type, run length, warmup and keyword arguments.
 */
class GoldenScheduleTest {

  private static final String FIXTURE = "/golden/schedules.json";
  private static final double RELATIVE = 1e-12;
  /**
   * Near zero a relative bound means nothing (cos(pi/2) is 6e-17, not 0), so there the bound is absolute:
   * this fraction of the peak, which is 1e-15 itself for a peak of 1.
   */
  private static final double ABSOLUTE_OF_PEAK = 1e-15;

  @TestFactory
  Stream<DynamicTest> ratesMatchTransformers() throws IOException {
    JsonObject fixture = fixture();
    if (fixture == null) {
      return skipped();
    }
    String source = "transformers " + fixture.get("transformers").getAsString();
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement element : fixture.getAsJsonArray("cases")) {
      JsonObject golden = element.getAsJsonObject();
      String name =
          golden.get("type").getAsString()
              + " total=" + golden.get("total").getAsLong()
              + " warmup=" + golden.get("warmup").getAsLong()
              + " " + golden.getAsJsonObject("kwargs")
              + " vs " + source;
      tests.add(DynamicTest.dynamicTest(name, () -> assertMatches(golden, name)));
    }
    return tests.stream();
  }

  @TestFactory
  Stream<DynamicTest> warmupRatiosRoundAsTransformersDoes() throws IOException {
    JsonObject fixture = fixture();
    if (fixture == null) {
      return skipped();
    }
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement element : fixture.getAsJsonArray("warmup_ratios")) {
      JsonObject golden = element.getAsJsonObject();
      double ratio = golden.get("ratio").getAsDouble();
      long total = golden.get("total").getAsLong();
      long expected = golden.get("warmup_steps").getAsLong();
      tests.add(
          DynamicTest.dynamicTest(
              "ratio=" + ratio + " total=" + total,
              () -> assertEquals(expected, Schedules.warmupSteps(ratio, total), "warmup steps of " + golden)));
    }
    return tests.stream();
  }

  private static void assertMatches(JsonObject golden, String name) {
    LearningRateSchedule schedule = build(golden);
    double absolute = ABSOLUTE_OF_PEAK * schedule.peakLearningRate();
    var rates = golden.getAsJsonArray("rates");
    for (int step = 0; step < rates.size(); step++) {
      double expected = rates.get(step).getAsDouble();
      double actual = schedule.learningRate(step);
      double error = Math.abs(actual - expected);
      double relative = expected == 0 ? Double.POSITIVE_INFINITY : error / Math.abs(expected);
      if (error > absolute && relative > RELATIVE) {
        fail(
            name + ": " + schedule + " at step " + step + " gave " + actual + ", transformers " + expected
                + "; error " + error + " (relative " + relative + "), tolerance " + RELATIVE + " relative or "
                + absolute + " absolute");
      }
    }
  }

  /** The schedule the case describes, built the way a configuration file would build it: by name. */
  private static LearningRateSchedule build(JsonObject golden) {
    ScheduleBuilder builder =
        Schedules.byName(golden.get("type").getAsString())
            .learningRate(golden.get("lr").getAsDouble())
            .totalSteps(golden.get("total").getAsLong())
            .warmupSteps(golden.get("warmup").getAsLong());
    for (Map.Entry<String, JsonElement> kwarg : golden.getAsJsonObject("kwargs").entrySet()) {
      JsonElement value = kwarg.getValue();
      switch (kwarg.getKey()) {
        case "num_cycles" -> builder.cycles(value.getAsDouble());
        case "lr_end" -> builder.endLearningRate(value.getAsDouble());
        case "power" -> builder.power(value.getAsDouble());
        case "timescale" -> builder.timescale(value.getAsLong());
        case "num_decay_steps" -> builder.decaySteps(value.getAsLong());
        case "decay_type" -> builder.decayType(value.getAsString());
        case "warmup_type" -> builder.warmupType(value.getAsString());
        case "min_lr_ratio", "min_lr_rate" -> builder.minLrRate(value.getAsDouble());
        default -> fail("the fixture passes " + kwarg.getKey() + ", which lora-sched does not know: " + golden.get("kwargs"));
      }
    }
    return builder.build();
  }

  /**
   * One test that reports itself skipped, with the reason: an aborted factory alone would show up in
   * Surefire's counts as nothing at all.
   */
  private static Stream<DynamicTest> skipped() {
    return Stream.of(
        DynamicTest.dynamicTest(
            "golden fixture absent",
            () ->
                assumeTrue(
                    false,
                    "no golden fixture at src/test/resources" + FIXTURE + ": run tools/golden/schedules.py where"
                        + " torch and transformers are installed to record it")));
  }

  /** The fixture, or null when it has not been recorded yet. */
  private static JsonObject fixture() throws IOException {
    InputStream in = GoldenScheduleTest.class.getResourceAsStream(FIXTURE);
    if (in == null) {
      return null;
    }
    try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      return JsonParser.parseReader(reader).getAsJsonObject();
    }
  }
}
