package io.github.lora4j.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile and broken files fail with a message naming the file and the key, and nothing worse. */
class SafetensorsValidationTest {

  @TempDir Path dir;

  private Path file(byte[] bytes) throws IOException {
    Path p = dir.resolve("bad.safetensors");
    Files.write(p, bytes);
    return p;
  }

  /** A file with this header and {@code dataBytes} zero bytes of data. */
  private Path file(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    return file(ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(h.length).put(h).array());
  }

  private static byte[] withLength(long headerLength, int fileSize) {
    return ByteBuffer.allocate(fileSize).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array();
  }

  private static SafetensorsException rejected(Path file, String key, String fragment) {
    var e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file).close());
    String m = e.getMessage();
    assertTrue(m.startsWith(file.toString()), "names the file: " + m);
    if (key != null) {
      assertTrue(m.contains("'" + key + "'"), "names the key " + key + ": " + m);
      assertEquals(Optional.of(key), e.key());
    }
    assertTrue(m.contains(fragment), "says '" + fragment + "': " + m);
    assertEquals(file, e.file());
    return e;
  }

  private static String tensor(String name, String dtype, String shape, String offsets) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
  }

  @Test
  void fileShorterThanTheLength() throws IOException {
    rejected(file(new byte[0]), null, "0 bytes, shorter than the 8-byte header length");
    rejected(file(new byte[5]), null, "5 bytes, shorter than the 8-byte header length");
  }

  @Test
  void headerLengthBeyondTheFile() throws IOException {
    rejected(file(withLength(1000, 20)), null, "header length 1000 is larger than the file (20 bytes");
  }

  @Test
  void headerLengthAboveTheCapAllocatesNothing() throws IOException {
    rejected(file(withLength(1L << 40, 16)), null, "header length 1099511627776 exceeds the limit of 100000000");
    // Read as unsigned: 2^64 - 1 is reported as such, not as -1.
    rejected(file(withLength(-1, 16)), null, "header length 18446744073709551615 exceeds the limit");
  }

  @Test
  void headerNotJson() throws IOException {
    rejected(file("{not json", 0), null, "header is not valid JSON");
    rejected(file("{\"a\":{\"dtype\":\"F32\",", 0), "a", "header is not valid JSON");
    rejected(file("{} x", 0), null, "");
  }

  @Test
  void headerNotAnObject() throws IOException {
    rejected(file("[1, 2]", 0), null, "header is not a JSON object but an array");
    rejected(file("\"x\"", 0), null, "header is not a JSON object but a string");
    rejected(file("{\"a\": 3}", 0), "a", "must be an object with dtype, shape and data_offsets, not a number");
  }

  @Test
  void headerNotUtf8() throws IOException {
    byte[] bytes = {2, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xfe};
    rejected(file(bytes), null, "header is not valid UTF-8");
  }

  @Test
  void deepNestingFailsCleanly() throws IOException {
    String deep = "[".repeat(200_000) + "]".repeat(200_000);
    rejected(file("{\"a\":{\"dtype\":\"F32\",\"shape\":" + deep + "}}", 0), "a", "shape must hold non-negative integers");
    Path skipped = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":" + deep + "}}", 4);
    try {
      SafetensorsFile.open(skipped).close();
    } catch (SafetensorsException expected) {
      assertTrue(expected.getMessage().contains("'a'"), expected.getMessage());
    } catch (StackOverflowError | OutOfMemoryError e) {
      fail("deep nesting must not exhaust the JVM", e);
    }
  }

  @Test
  void unknownDtype() throws IOException {
    rejected(file("{" + tensor("w", "F8_E4M3", "[1]", "[0,1]") + "}", 1), "w",
        "dtype 'F8_E4M3' is not supported; lora4j reads [F32, F16, BF16, I32, I64, U8]");
  }

  @Test
  void negativeDimension() throws IOException {
    rejected(file("{" + tensor("w", "F32", "[-1,2]", "[0,8]") + "}", 8), "w",
        "shape must hold non-negative integers, not -1");
  }

  @Test
  void badDataOffsets() throws IOException {
    rejected(file("{" + tensor("w", "F32", "[1]", "[0]") + "}", 4), "w", "data_offsets must be two integers");
    rejected(file("{" + tensor("w", "F32", "[1]", "[0,4,8]") + "}", 4), "w", "data_offsets must be two integers");
    rejected(file("{" + tensor("w", "F32", "[1]", "[8,4]") + "}", 8), "w", "data_offsets [8, 4] end before they begin");
    rejected(file("{" + tensor("w", "F32", "[1]", "[-4,0]") + "}", 4), "w", "non-negative integers, not -4");
    rejected(file("{" + tensor("w", "F32", "[1]", "[0,4.0]") + "}", 4), "w", "not 4.0");
    rejected(file("{" + tensor("w", "F32", "[1]", "[0,\"4\"]") + "}", 4), "w", "not a string");
    rejected(file("{" + tensor("w", "F32", "[1]", "{}") + "}", 4), "w", "data_offsets must be an array");
    rejected(file("{" + tensor("w", "F32", "[1]", "[0,99999999999999999999]") + "}", 4), "w", "below 2^63");
  }

  @Test
  void missingField() throws IOException {
    rejected(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "w", "has no data_offsets");
    rejected(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "w", "has no dtype");
  }

  @Test
  void offsetsPointOutsideTheFile() throws IOException {
    rejected(file("{" + tensor("w", "F32", "[2]", "[0,8]") + "}", 4), "w",
        "data_offsets [0, 8] point outside the file: its data buffer holds 4 bytes");
  }

  @Test
  void byteLengthNotMatchingDtypeAndShape() throws IOException {
    rejected(file("{" + tensor("w", "F32", "[2,3]", "[0,20]") + "}", 20), "w",
        "data_offsets [0, 20] span 20 bytes but F32 [2, 3] needs 24");
  }

  @Test
  void overlappingTensors() throws IOException {
    rejected(file("{" + tensor("a", "F32", "[2]", "[0,8]") + "," + tensor("b", "F32", "[2]", "[4,12]") + "}", 12),
        "b", "data_offsets [4, 12] overlap those of 'a' [0, 8]");
  }

  @Test
  void bytesClaimedByNoTensor() throws IOException {
    rejected(file("{" + tensor("a", "F32", "[1]", "[0,4]") + "," + tensor("b", "F32", "[1]", "[8,12]") + "}", 12),
        "b", "bytes [4, 8) of the data buffer before this tensor belong to no tensor (after 'a')");
    rejected(file("{" + tensor("a", "F32", "[1]", "[0,4]") + "}", 8), "a",
        "bytes [4, 8) at the end of the data buffer belong to no tensor");
    rejected(file("{}", 8), null, "bytes [0, 8) at the end of the data buffer belong to no tensor");
  }

  @Test
  void elementCountOverflow() throws IOException {
    rejected(file("{" + tensor("w", "F32", "[4294967296,4294967296]", "[0,4]") + "}", 4), "w",
        "has more elements than a 64-bit count holds");
    // The count fits but the byte size does not.
    rejected(file("{" + tensor("w", "F32", "[4611686018427387904]", "[0,4]") + "}", 4), "w",
        "has more elements than a 64-bit count holds");
  }

  @Test
  void duplicateKey() throws IOException {
    rejected(file("{" + tensor("a", "F32", "[1]", "[0,4]") + "," + tensor("a", "F32", "[1]", "[0,4]") + "}", 4),
        "a", "appears twice in the header");
  }

  @Test
  void metadataMustBeStrings() throws IOException {
    rejected(file("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__", "value of 'k' must be a string, not a number");
    rejected(file("{\"__metadata__\":[]}", 0), "__metadata__", "must be an object of strings");
  }

  @Test
  void emptyFileWithEmptyHeaderIsValid() throws IOException {
    try (var f = SafetensorsFile.open(file("{}", 0))) {
      assertTrue(f.names().isEmpty());
    }
  }

  /** Any one corrupted header byte gives a SafetensorsException or a valid file, never another failure. */
  @Property(tries = 1000)
  void corruptedHeaderFailsCleanly(@ForAll @IntRange(min = 0, max = 375) int position, @ForAll byte value)
      throws IOException {
    byte[] bytes = SafetensorsFormatTest.referenceBytes();
    bytes[position] = value;
    Path p = Files.createTempFile("corrupt", ".safetensors");
    try {
      Files.write(p, bytes);
      try (var f = SafetensorsFile.open(p)) {
        for (String name : f.names()) {
          f.segment(name);
        }
      } catch (SafetensorsException expected) {
        assertTrue(expected.getMessage().startsWith(p.toString()), expected.getMessage());
      }
    } finally {
      Files.delete(p);
    }
  }
}
