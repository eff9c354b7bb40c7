package io.github.lora4j.core.train;

import io.github.lora4j.tensor.TempSiblings;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code metrics.jsonl}: one JSON object per logged step, the keys of {@link
 * StepMetrics#toLogEntry()} plus {@code wall_time} (seconds since the epoch). Each line is written
 * whole and flushed, so {@code tail -f} or a notebook can read the file while training runs.
 * Non-finite numbers are written as Python's json module writes them ({@code NaN}, {@code
 * Infinity}), which it also reads.
 */
final class JsonlMetricsSink implements MetricsSink {

  static final String FILE_NAME = "metrics.jsonl";

  private static final Logger LOG = LoggerFactory.getLogger(JsonlMetricsSink.class);
  private static final Gson GSON = new GsonBuilder()
      .serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

  private final Path file;
  private final Clock clock;
  private final OutputStream out;

  private JsonlMetricsSink(Path file, Clock clock) throws IOException {
    this.file = file;
    this.clock = clock;
    this.out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
        StandardOpenOption.WRITE);
  }

  /** Appends to {@code dir/metrics.jsonl}, creating the directory and the file as needed. */
  static JsonlMetricsSink open(Path dir, Clock clock) throws IOException {
    Files.createDirectories(dir);
    return new JsonlMetricsSink(dir.resolve(FILE_NAME), clock);
  }

  /**
   * For a run resumed at {@code step}: drops the lines of later steps (written after the
   * checkpoint, so they will be logged again) and a torn last line, then appends.
   */
  static JsonlMetricsSink resume(Path dir, long step, Clock clock) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      keepUpTo(file, step);
    }
    return new JsonlMetricsSink(file, clock);
  }

  Path file() {
    return file;
  }

  @Override
  public void log(StepMetrics metrics) {
    var entry = new TreeMap<String, Object>(metrics.toLogEntry());
    entry.put("wall_time", clock.millis() / 1000.0);
    byte[] line = (GSON.toJson(entry) + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      // One write of the whole line: a reader never sees half of it, unless the process dies mid-write.
      out.write(line);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file, e);
    }
  }

  private static void keepUpTo(Path file, long step) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    var kept = new ArrayList<String>();
    int dropped = 0;
    int torn = 0;
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      Long lineStep = stepOf(line);
      if (lineStep == null) {
        torn++;
      } else if (lineStep <= step) {
        kept.add(line);
      } else {
        dropped++;
      }
    }
    if (dropped == 0 && torn == 0) {
      return;
    }
    LOG.info("{}: resuming at step {}, dropped {} line(s) of later steps and {} unreadable line(s)",
        file, step, dropped, torn);
    Path tmp = TempSiblings.file(file.getParent(), "." + FILE_NAME + ".", ".tmp");
    try {
      Files.write(tmp, kept, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static Long stepOf(String line) {
    try {
      JsonElement e = JsonParser.parseString(line);
      if (e.isJsonObject() && e.getAsJsonObject().has("step")) {
        return e.getAsJsonObject().get("step").getAsLong();
      }
    } catch (JsonParseException | IllegalStateException | NumberFormatException | UnsupportedOperationException e) {
      // Not JSON, or a step that is no number (Gson's getAsLong throws UnsupportedOperationException
      // or NumberFormatException): a line torn by a crash, dropped below.
    }
    return null;
  }
}
