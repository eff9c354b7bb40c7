package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlMetricsSinkTest {

  @TempDir Path dir;

  private final Clock clock = Clock.fixed(Instant.parse("2026-01-02T03:04:05.250Z"), ZoneOffset.UTC);

  private static StepMetrics at(long step) {
    return new StepMetrics(step, step / 100.0, 3.0 - step / 100.0, 2e-4, 0.5, 1000, 1 << 20);
  }

  private List<JsonObject> lines() throws IOException {
    return Files.readAllLines(dir.resolve("metrics.jsonl"), StandardCharsets.UTF_8).stream()
        .map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
  }

  @Test
  void eachLineIsReadableBeforeTheSinkCloses() throws IOException {
    try (var sink = JsonlMetricsSink.open(dir, clock)) {
      sink.log(at(1));
      assertEquals(1, lines().size(), "the first line is on disk while training goes on");
      sink.log(at(2).withEval(Map.of("eval_loss", 2.5)));
      List<JsonObject> lines = lines();
      assertEquals(2, lines.size());
      JsonObject second = lines.get(1);
      assertEquals(2, second.get("step").getAsLong());
      assertEquals(2.98, second.get("loss").getAsDouble());
      assertEquals(2e-4, second.get("learning_rate").getAsDouble());
      assertEquals(2.5, second.get("eval_loss").getAsDouble());
      assertEquals(1 << 20, second.get("device_bytes").getAsLong());
      assertEquals(1767323045.25, second.get("wall_time").getAsDouble());
    }
  }

  @Test
  void nonFiniteValuesAreWrittenAsPythonsJsonWritesThem() throws IOException {
    try (var sink = JsonlMetricsSink.open(dir, clock)) {
      sink.log(new StepMetrics(3, 0, Double.NaN, 1e-4, Double.POSITIVE_INFINITY, 0, 0));
    }
    String line = Files.readString(dir.resolve("metrics.jsonl"));
    assertTrue(line.contains("\"loss\":NaN"), line);
    assertTrue(line.contains("\"grad_norm\":Infinity"), line);
    assertTrue(line.endsWith("}\n"), line);
  }

  @Test
  void reopeningAppends() throws IOException {
    try (var sink = JsonlMetricsSink.open(dir, clock)) {
      sink.log(at(1));
    }
    try (var sink = JsonlMetricsSink.open(dir, clock)) {
      sink.log(at(2));
    }
    assertEquals(List.of(1L, 2L), lines().stream().map(o -> o.get("step").getAsLong()).toList());
  }

  @Test
  void resumeDropsLaterStepsAndATornLastLine() throws IOException {
    try (var sink = JsonlMetricsSink.open(dir, clock)) {
      for (long s = 10; s <= 50; s += 10) {
        sink.log(at(s));
      }
    }
    // A crash in the middle of a write leaves half a line.
    Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\":60,\"lo", StandardOpenOption.APPEND);
    try (var sink = JsonlMetricsSink.resume(dir, 30, clock)) {
      sink.log(at(40));
    }
    assertEquals(List.of(10L, 20L, 30L, 40L), lines().stream().map(o -> o.get("step").getAsLong()).toList());
  }
}
