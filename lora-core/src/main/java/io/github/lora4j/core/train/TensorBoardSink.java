package io.github.lora4j.core.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes the scalars of each logged step as a TensorBoard event file, {@code
 * events.out.tfevents.<epoch seconds>.<hostname>}, that {@code tensorboard --logdir} reads while
 * training runs. Tags follow transformers' TensorBoard callback: {@code train/loss}, {@code
 * train/learning_rate}, {@code train/grad_norm}, {@code train/epoch}, lora4j's {@code
 * train/tokens_per_second} and {@code train/device_memory_gib}, and {@code eval/loss} for {@code
 * eval_loss}.
 *
 * <p>The file is TensorFlow's record format, written here without TensorFlow: per record a
 * little-endian u64 length, the masked CRC-32C of those 8 bytes, the serialized {@code Event}
 * protobuf, and the masked CRC-32C of the protobuf. The first record holds only {@code
 * file_version = "brain.Event:2"}. The protobuf is encoded by hand; only the fields of
 * tensorflow/core/util/event.proto and summary.proto used here are written.
 */
final class TensorBoardSink implements MetricsSink {

  static final String FILE_PREFIX = "events.out.tfevents.";
  static final String FILE_VERSION = "brain.Event:2";

  // Field numbers of tensorflow.Event and tensorflow.Summary(.Value).
  private static final int EVENT_WALL_TIME = 1;
  private static final int EVENT_STEP = 2;
  private static final int EVENT_FILE_VERSION = 3;
  private static final int EVENT_SUMMARY = 5;
  private static final int SUMMARY_VALUE = 1;
  private static final int VALUE_TAG = 1;
  private static final int VALUE_SIMPLE_VALUE = 2;

  private static final int WIRE_VARINT = 0;
  private static final int WIRE_FIXED64 = 1;
  private static final int WIRE_LENGTH_DELIMITED = 2;
  private static final int WIRE_FIXED32 = 5;

  private final Path file;
  private final Clock clock;
  private final OutputStream out;

  private TensorBoardSink(Path file, Clock clock) throws IOException {
    this.file = file;
    this.clock = clock;
    this.out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    writeRecord(fileVersionEvent(wallTime()));
  }

  /** A new event file in {@code logDir}, named after the clock's time and this host. */
  static TensorBoardSink open(Path logDir, Clock clock) throws IOException {
    return open(logDir, clock, hostname());
  }

  static TensorBoardSink open(Path logDir, Clock clock, String hostname) throws IOException {
    Files.createDirectories(logDir);
    String name = FILE_PREFIX + clock.instant().getEpochSecond() + "." + hostname.replaceAll("[/\\\\\\s]", "_");
    Path file = logDir.resolve(name);
    // A run resumed in the second it stopped: a second file beside the first (TensorBoard reads every *tfevents* file).
    for (int n = 2; Files.exists(file); n++) {
      file = logDir.resolve(name + "." + n);
    }
    return new TensorBoardSink(file, clock);
  }

  Path file() {
    return file;
  }

  @Override
  public void log(StepMetrics m) {
    var scalars = new LinkedHashMap<String, Double>();
    scalars.put("train/loss", m.loss());
    scalars.put("train/learning_rate", m.learningRate());
    scalars.put("train/grad_norm", m.gradNorm());
    scalars.put("train/epoch", m.epoch());
    scalars.put("train/tokens_per_second", m.tokensPerSecond());
    scalars.put("train/device_memory_gib", m.deviceBytes() / (double) (1L << 30));
    m.evalMetrics().forEach((k, v) -> scalars.put(evalTag(k), v));
    try {
      writeRecord(scalarEvent(wallTime(), m.step(), scalars));
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

  /** transformers' rewrite_logs: {@code eval_loss} is shown as {@code eval/loss}. */
  static String evalTag(String key) {
    return key.startsWith("eval_") ? "eval/" + key.substring("eval_".length()) : "eval/" + key;
  }

  private double wallTime() {
    return clock.millis() / 1000.0;
  }

  private void writeRecord(byte[] data) throws IOException {
    out.write(frame(data));
    out.flush();
  }

  /** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
  static byte[] frame(byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(data.length);
    b.putInt(maskedCrc32c(b.array(), 0, 8));
    b.put(data);
    b.putInt(maskedCrc32c(data, 0, data.length));
    return b.array();
  }

  /** TensorFlow's crc32c::Mask: rotate right by 15 bits and add a constant (a CRC of CRCs is weak). */
  static int maskedCrc32c(byte[] bytes, int offset, int length) {
    var crc = new CRC32C();
    crc.update(bytes, offset, length);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + 0xa282ead8;
  }

  static byte[] fileVersionEvent(double wallTime) {
    var e = new ProtoWriter();
    e.fixed64(EVENT_WALL_TIME, Double.doubleToRawLongBits(wallTime));
    e.string(EVENT_FILE_VERSION, FILE_VERSION);
    return e.toByteArray();
  }

  static byte[] scalarEvent(double wallTime, long step, Map<String, Double> scalars) {
    var summary = new ProtoWriter();
    scalars.forEach((tag, value) -> {
      var v = new ProtoWriter();
      v.string(VALUE_TAG, tag);
      v.fixed32(VALUE_SIMPLE_VALUE, Float.floatToRawIntBits(value.floatValue()));
      summary.message(SUMMARY_VALUE, v);
    });
    var e = new ProtoWriter();
    e.fixed64(EVENT_WALL_TIME, Double.doubleToRawLongBits(wallTime));
    e.varint(EVENT_STEP, step);
    e.message(EVENT_SUMMARY, summary);
    return e.toByteArray();
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      String env = System.getenv("HOSTNAME");
      return env == null || env.isBlank() ? "localhost" : env;
    }
  }

  /** The protobuf wire format, for the four wire types an Event needs. */
  private static final class ProtoWriter {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

    void varint(int field, long value) {
      tag(field, WIRE_VARINT);
      rawVarint(value);
    }

    void fixed64(int field, long bits) {
      tag(field, WIRE_FIXED64);
      for (int i = 0; i < 8; i++) {
        buf.write((int) (bits >>> (8 * i)));
      }
    }

    void fixed32(int field, int bits) {
      tag(field, WIRE_FIXED32);
      for (int i = 0; i < 4; i++) {
        buf.write(bits >>> (8 * i));
      }
    }

    void string(int field, String s) {
      bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    void message(int field, ProtoWriter m) {
      bytes(field, m.toByteArray());
    }

    private void bytes(int field, byte[] b) {
      tag(field, WIRE_LENGTH_DELIMITED);
      rawVarint(b.length);
      buf.writeBytes(b);
    }

    private void tag(int field, int wireType) {
      rawVarint((long) field << 3 | wireType);
    }

    private void rawVarint(long v) {
      while ((v & ~0x7FL) != 0) {
        buf.write((int) (v & 0x7F) | 0x80);
        v >>>= 7;
      }
      buf.write((int) v);
    }

    byte[] toByteArray() {
      return buf.toByteArray();
    }
  }
}
