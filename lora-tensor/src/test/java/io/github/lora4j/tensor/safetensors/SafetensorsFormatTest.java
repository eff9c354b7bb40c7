package io.github.lora4j.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.DType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The byte layout of the reference implementation, read and written. */
class SafetensorsFormatTest {

  /**
   * The file that safetensors 0.8.0's {@code save_file} writes for
   *
   * <pre>
   * {"w": torch.arange(6, dtype=float32).reshape(2, 3), "b": bfloat16 [1.5, -2.0, 3.140625],
   *  "h": float16 [0.5, 65504.0], "i": int64 [[7, -8]], "j": int32 [1, 2, 3], "u": uint8 [255, 0, 1]}
   * </pre>
   *
   * with metadata {"format": "pt"}: the u64 header length 368 (little-endian), a compact JSON
   * header with the metadata first and the tensors ordered I64, F32, I32, BF16, F16, U8, padded
   * with 3 spaces so the data starts at byte 376 (a multiple of 8), then the 65 data bytes.
   */
  static byte[] referenceBytes() {
    String json = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"i\":{\"dtype\":\"I64\",\"shape\":[1,2],\"data_offsets\":[0,16]},"
        + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[16,40]},"
        + "\"j\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[40,52]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[52,58]},"
        + "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[58,62]},"
        + "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[62,65]}}"
        + "   ";
    String data = ""
        + "0700000000000000" + "f8ffffffffffffff" // i: 7, -8
        + "00000000" + "0000803f" + "00000040" + "00004040" + "00008040" + "0000a040" // w: 0..5
        + "01000000" + "02000000" + "03000000" // j
        + "c03f" + "00c0" + "4940" // b: 0x3FC0 = 1.5, 0xC000 = -2, 0x4049 = 3.140625
        + "0038" + "ff7b" // h: 0x3800 = 0.5, 0x7BFF = 65504
        + "ff0001"; // u
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    assertEquals(368, header.length);
    byte[] body = HexFormat.of().parseHex(data);
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + body.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header).put(body);
    return b.array();
  }

  @Test
  void handWrittenLayoutIsWhatTheReferenceImplementationWrote() throws IOException {
    try (InputStream in = getClass().getResourceAsStream("reference-0.8.0.safetensors")) {
      assertArrayEquals(in.readAllBytes(), referenceBytes());
    }
  }

  @Test
  void readsTheReferenceFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("ref.safetensors");
    Files.write(file, referenceBytes());
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertEquals(List.of("i", "w", "j", "b", "h", "u"), f.names());
      assertEquals(Map.of("format", "pt"), f.metadata());
      assertEquals(new TensorInfo("w", DType.F32, new long[] {2, 3}), f.info("w"));
      assertEquals(24, f.info("w").byteSize());
      assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, f.readFloats("w"));
      assertArrayEquals(new float[] {1.5f, -2f, 3.140625f}, f.readFloats("b"));
      assertArrayEquals(new float[] {0.5f, 65504f}, f.readFloats("h"));
      assertArrayEquals(new int[] {7, -8}, f.readInts("i"));
      assertArrayEquals(new int[] {1, 2, 3}, f.readInts("j"));
      assertArrayEquals(new int[] {255, 0, 1}, f.readInts("u"));
      assertEquals(6, f.segment("b").byteSize());
      assertTrue(f.segment("b").isReadOnly());
      assertEquals((short) 0x3FC0, f.segment("b").get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));

      float[] dst = new float[10];
      f.readFloats("w", dst, 3);
      assertArrayEquals(new float[] {0, 0, 0, 0, 1, 2, 3, 4, 5, 0}, dst);
      var e = assertThrows(IllegalArgumentException.class, () -> f.readFloats("w", new float[8], 3));
      assertTrue(e.getMessage().contains("'w'"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> f.readFloats("i"));
      assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("'i'"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> f.readInts("w"));
      assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("F32"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> f.info("nope"));
      assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("'nope'"), e.getMessage());
    }
  }

  @Test
  void writerReproducesTheReferenceFileByteForByte(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("out.safetensors");
    // Added in an order unlike the stored one: the writer orders as the reference does.
    new SafetensorsWriter()
        .putBytes("u", DType.U8, new long[] {3}, new byte[] {(byte) 255, 0, 1})
        .putFloats("h", new float[] {0.5f, 65504f}, DType.F16, 2)
        .putFloats("b", new float[] {1.5f, -2f, 3.140625f}, DType.BF16, 3)
        .putInts("j", new int[] {1, 2, 3}, 3)
        .putBytes("i", DType.I64, new long[] {1, 2}, longBytes(7, -8))
        .putFloats("w", new float[] {0, 1, 2, 3, 4, 5}, DType.F32, 2, 3)
        .metadata("format", "pt")
        .write(file);
    assertArrayEquals(referenceBytes(), Files.readAllBytes(file));
  }

  @Test
  void bf16WideningIsExactForEveryBitPattern(@TempDir Path dir) throws IOException {
    byte[] all = new byte[2 * 65536];
    for (int i = 0; i < 65536; i++) {
      all[2 * i] = (byte) i;
      all[2 * i + 1] = (byte) (i >>> 8);
    }
    Path file = dir.resolve("bf16.safetensors");
    new SafetensorsWriter().putBytes("x", DType.BF16, new long[] {65536}, all).write(file);
    try (var f = SafetensorsFile.open(file)) {
      float[] x = f.readFloats("x");
      for (int i = 0; i < 65536; i++) {
        // bf16 is the top half of an f32, NaN payloads included.
        assertEquals(i << 16, Float.floatToRawIntBits(x[i]), "bf16 0x" + Integer.toHexString(i));
      }
    }
  }

  @Test
  void f16WideningMatchesKnownValues(@TempDir Path dir) throws IOException {
    // IEEE half: 1.0, -2.0, largest normal, smallest normal, smallest subnormal, -0, +inf, -inf.
    short[] halves = {0x3C00, (short) 0xC000, 0x7BFF, 0x0400, 0x0001, (short) 0x8000, 0x7C00, (short) 0xFC00};
    float[] expected = {1f, -2f, 65504f, 0x1p-14f, 0x1p-24f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    ByteBuffer b = ByteBuffer.allocate(2 * halves.length).order(ByteOrder.LITTLE_ENDIAN);
    for (short h : halves) {
      b.putShort(h);
    }
    Path file = dir.resolve("f16.safetensors");
    new SafetensorsWriter().putBytes("x", DType.F16, new long[] {halves.length}, b.array()).write(file);
    try (var f = SafetensorsFile.open(file)) {
      float[] x = f.readFloats("x");
      for (int i = 0; i < halves.length; i++) {
        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(x[i]), "f16 " + halves[i]);
      }
    }
  }

  @Test
  void bf16RoundingIsNearestEvenAsInTorch() {
    // 1 + 2^-8 lies halfway between bf16 1.0 (0x3F80) and 1.0078125 (0x3F81): ties go to even.
    assertEquals((short) 0x3F80, SafetensorsWriter.toBf16(Float.intBitsToFloat(0x3F808000)));
    // Halfway between 0x3F81 and 0x3F82: to the even 0x3F82.
    assertEquals((short) 0x3F82, SafetensorsWriter.toBf16(Float.intBitsToFloat(0x3F818000)));
    // Just above halfway rounds up; just below rounds down.
    assertEquals((short) 0x3F81, SafetensorsWriter.toBf16(Float.intBitsToFloat(0x3F808001)));
    assertEquals((short) 0x3F80, SafetensorsWriter.toBf16(Float.intBitsToFloat(0x3F807FFF)));
    // Overflow past the largest bf16 rounds to infinity; NaN is torch's canonical 0x7FC0.
    assertEquals((short) 0x7F80, SafetensorsWriter.toBf16(Float.MAX_VALUE));
    assertEquals((short) 0x7FC0, SafetensorsWriter.toBf16(Float.NaN));
    assertEquals((short) 0x8000, SafetensorsWriter.toBf16(-0f));
  }

  static byte[] longBytes(long... values) {
    ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      b.putLong(v);
    }
    return b.array();
  }

  static byte[] concat(byte[]... parts) {
    var out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
