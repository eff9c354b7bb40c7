package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads the event file back with a decoder written here from the format's description, with its
 * own bit-by-bit CRC-32C, so that the writer's framing, masking and protobuf are checked against an
 * independent implementation rather than against themselves.
 */
class TensorBoardSinkTest {

  @TempDir Path dir;

  private final Clock clock = Clock.fixed(Instant.parse("2026-03-04T05:06:07.5Z"), ZoneOffset.UTC);

  // ---- the test's own reader ----

  /** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one bit at a time. */
  static int crc32c(byte[] b, int off, int len) {
    int crc = 0xFFFFFFFF;
    for (int i = off; i < off + len; i++) {
      crc ^= b[i] & 0xFF;
      for (int k = 0; k < 8; k++) {
        crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
      }
    }
    return ~crc;
  }

  static int mask(int crc) {
    return Integer.rotateRight(crc, 15) + 0xa282ead8;
  }

  record Scalar(String tag, float value) {}

  record Event(double wallTime, long step, String fileVersion, List<Scalar> scalars) {}

  /** Splits a file into records, checking both CRCs of each. */
  static List<byte[]> records(byte[] file) {
    var out = new ArrayList<byte[]>();
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      int start = b.position();
      long length = b.getLong();
      assertEquals(mask(crc32c(file, start, 8)), b.getInt(), "length CRC of the record at byte " + start);
      byte[] data = new byte[Math.toIntExact(length)];
      b.get(data);
      assertEquals(mask(crc32c(data, 0, data.length)), b.getInt(), "data CRC of the record at byte " + start);
      out.add(data);
    }
    return out;
  }

  /** A protobuf reader for the fields of Event, Summary and Summary.Value; fails on anything else. */
  static final class Proto {
    final ByteBuffer b;

    Proto(byte[] bytes) {
      b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    long varint() {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        int x = b.get() & 0xFF;
        v |= (long) (x & 0x7F) << shift;
        if (x < 0x80) {
          return v;
        }
      }
    }

    byte[] lengthDelimited() {
      byte[] bytes = new byte[Math.toIntExact(varint())];
      b.get(bytes);
      return bytes;
    }
  }

  static Event event(byte[] data) {
    var p = new Proto(data);
    double wall = Double.NaN;
    long step = 0;
    String version = null;
    var scalars = new ArrayList<Scalar>();
    while (p.b.hasRemaining()) {
      long key = p.varint();
      switch ((int) key) {
        case 1 << 3 | 1 -> wall = p.b.getDouble();
        case 2 << 3 -> step = p.varint();
        case 3 << 3 | 2 -> version = new String(p.lengthDelimited(), StandardCharsets.UTF_8);
        case 5 << 3 | 2 -> scalars.addAll(summary(p.lengthDelimited()));
        default -> throw new AssertionError("unexpected Event key " + key);
      }
    }
    return new Event(wall, step, version, scalars);
  }

  static List<Scalar> summary(byte[] data) {
    var p = new Proto(data);
    var out = new ArrayList<Scalar>();
    while (p.b.hasRemaining()) {
      assertEquals(1 << 3 | 2, p.varint(), "Summary holds only repeated Value (field 1)");
      var v = new Proto(p.lengthDelimited());
      String tag = null;
      float value = Float.NaN;
      while (v.b.hasRemaining()) {
        long key = v.varint();
        switch ((int) key) {
          case 1 << 3 | 2 -> tag = new String(v.lengthDelimited(), StandardCharsets.UTF_8);
          case 2 << 3 | 5 -> value = v.b.getFloat();
          default -> throw new AssertionError("unexpected Value key " + key);
        }
      }
      out.add(new Scalar(tag, value));
    }
    return out;
  }

  static List<Event> readEvents(Path file) throws IOException {
    return records(Files.readAllBytes(file)).stream().map(TensorBoardSinkTest::event).toList();
  }

  // ---- the tests ----

  @Test
  void theTestsCrcIsCrc32c() {
    // The catalogue check value of CRC-32C, and two of RFC 3720's test vectors (appendix B.4).
    assertEquals(0xE3069283, crc32c("123456789".getBytes(StandardCharsets.US_ASCII), 0, 9));
    assertEquals(0x8A9136AA, crc32c(new byte[32], 0, 32));
    byte[] ones = new byte[32];
    java.util.Arrays.fill(ones, (byte) 0xFF);
    assertEquals(0x62A8AB43, crc32c(ones, 0, 32));
  }

  @Test
  void maskIsTensorFlowsRotateAndAdd() {
    byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
    int masked = TensorBoardSink.maskedCrc32c(b, 0, b.length);
    assertEquals(mask(0xE3069283), masked);
    assertEquals(0xE3069283, Integer.rotateLeft(masked - 0xa282ead8, 15), "unmasking gives the CRC back");
  }

  @Test
  void frameOfAnEmptyRecordIsKnownBytes() {
    // length 0 is eight zero bytes, whose CRC-32C is 0x8C28B28A; the CRC of no bytes is 0.
    assertEquals(0x8C28B28A, crc32c(new byte[8], 0, 8));
    byte[] framed = TensorBoardSink.frame(new byte[0]);
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(0).putInt(mask(0x8C28B28A)).putInt(mask(0));
    assertArrayEquals(b.array(), framed);
  }

  @Test
  void fileIsNamedByTimeAndHost() throws IOException {
    try (var sink = TensorBoardSink.open(dir, clock, "gpu-box")) {
      assertEquals("events.out.tfevents.1772600767.gpu-box", sink.file().getFileName().toString());
    }
    try (var sink = TensorBoardSink.open(dir.resolve("b"), clock, "we/ird host")) {
      assertEquals("events.out.tfevents.1772600767.we_ird_host", sink.file().getFileName().toString());
    }
    // A run resumed within the same second writes a second file rather than failing.
    try (var sink = TensorBoardSink.open(dir, clock, "gpu-box")) {
      assertEquals("events.out.tfevents.1772600767.gpu-box.2", sink.file().getFileName().toString());
    }
  }

  @Test
  void eventsDecodeBackWithTheirStepsTagsAndValues() throws IOException {
    Path file;
    try (var sink = TensorBoardSink.open(dir, clock, "host")) {
      file = sink.file();
      sink.log(new StepMetrics(1, 0.01, 2.5, 1e-5, 1.25, 5000, 3L << 30));
      // Readable before close: the first two records are already on disk.
      assertEquals(2, readEvents(file).size());
      var eval = new LinkedHashMap<String, Double>();
      eval.put("eval_loss", 2.0);
      eval.put("eval_mae", 14.5);
      sink.log(new StepMetrics(300, 1.5, 1.75, 2e-4, Double.NaN, 6000, 1L << 30).withEval(eval));
    }
    List<Event> events = readEvents(file);
    assertEquals(3, events.size());

    Event first = events.get(0);
    assertEquals("brain.Event:2", first.fileVersion());
    assertEquals(1772600767.5, first.wallTime());
    assertEquals(List.of(), first.scalars());

    Event step1 = events.get(1);
    assertEquals(1, step1.step());
    assertEquals(1772600767.5, step1.wallTime());
    assertEquals(List.of(new Scalar("train/loss", 2.5f), new Scalar("train/learning_rate", 1e-5f),
        new Scalar("train/grad_norm", 1.25f), new Scalar("train/epoch", 0.01f),
        new Scalar("train/tokens_per_second", 5000f), new Scalar("train/device_memory_gib", 3f)), step1.scalars());

    Event step300 = events.get(2);
    assertEquals(300, step300.step(), "a step over 127 takes a two-byte varint");
    Map<String, Float> byTag = new LinkedHashMap<>();
    step300.scalars().forEach(s -> byTag.put(s.tag(), s.value()));
    assertEquals(2.0f, byTag.get("eval/loss"));
    assertEquals(14.5f, byTag.get("eval/mae"));
    assertTrue(Float.isNaN(byTag.get("train/grad_norm")), "a NaN gradient norm is written, as TensorBoard shows it");
  }

  @Test
  void aCorruptedByteIsCaughtByTheReadersCrc() throws IOException {
    Path file;
    try (var sink = TensorBoardSink.open(dir, clock, "host")) {
      file = sink.file();
      sink.log(new StepMetrics(5, 0.1, 2, 1e-4, 1, 10, 0));
    }
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 6] ^= 1;
    assertThrows(AssertionError.class, () -> records(bytes));
  }

  @Test
  void evalTagsFollowTransformersRewrite() {
    assertEquals("eval/loss", TensorBoardSink.evalTag("eval_loss"));
    assertEquals("eval/price_mae", TensorBoardSink.evalTag("price_mae"));
  }
}
