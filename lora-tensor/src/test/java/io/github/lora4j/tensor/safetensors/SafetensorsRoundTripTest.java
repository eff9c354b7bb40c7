package io.github.lora4j.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.DType;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/** Whatever the writer writes, the reader reads back the same. */
class SafetensorsRoundTripTest {

  record Spec(String name, DType dtype, long[] shape, long seed) {
    int numel() {
      return (int) TensorInfo.numel(shape);
    }
  }

  private Path dir;

  @BeforeProperty
  void createDir() throws IOException {
    dir = Files.createTempDirectory("safetensors-roundtrip");
  }

  @AfterProperty
  void deleteDir() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  @Provide
  Arbitrary<List<Spec>> tensors() {
    Arbitrary<String> names = Arbitraries.strings().withCharRange('\u0000', '\uD7FF').ofMinLength(1).ofMaxLength(12)
        .filter(s -> !s.equals("__metadata__"));
    Arbitrary<long[]> shapes = Arbitraries.longs().between(0, 5).array(long[].class).ofMaxSize(4);
    return Combinators.combine(names, Arbitraries.of(DType.class), shapes, Arbitraries.longs())
        .as(Spec::new).list().ofMaxSize(6);
  }

  @Property(tries = 200)
  void everyTensorReadsBackAsWritten(@ForAll("tensors") List<Spec> specs,
      @ForAll @Size(max = 3) Map<String, String> metadata) throws IOException {
    Set<String> seen = new HashSet<>();
    List<Spec> unique = specs.stream().filter(s -> seen.add(s.name)).toList();
    var writer = new SafetensorsWriter().metadata(metadata);
    for (Spec s : unique) {
      put(writer, s);
    }
    Path file = dir.resolve("t.safetensors");
    writer.write(file);

    long dataBytes = unique.stream().mapToLong(s -> (long) s.numel() * s.dtype.byteSize()).sum();
    long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, (8 + headerLength) % 8, "data starts 8-byte aligned");
    assertEquals(8 + headerLength + dataBytes, Files.size(file));

    try (var f = SafetensorsFile.open(file)) {
      assertEquals(metadata, f.metadata());
      assertEquals(seen, Set.copyOf(f.names()));
      for (Spec s : unique) {
        assertEquals(new TensorInfo(s.name, s.dtype, s.shape), f.info(s.name));
        check(f, s);
      }
    }
  }

  @Property
  void bf16RoundingPicksTheNearestBf16(@ForAll float x) {
    short b = SafetensorsWriter.toBf16(x);
    float rounded = Float.intBitsToFloat((b & 0xffff) << 16);
    if (Float.isNaN(x)) {
      assertTrue(Float.isNaN(rounded));
      return;
    }
    if (Float.isInfinite(rounded) && !Float.isInfinite(x)) {
      return; // rounded past the largest bf16
    }
    float below = Float.intBitsToFloat(((b & 0xffff) - 1) << 16);
    float above = Float.intBitsToFloat(((b & 0xffff) + 1) << 16);
    double err = Math.abs((double) x - rounded);
    assertTrue(err <= Math.abs((double) x - below) || Float.isNaN(below), x + " -> " + rounded + " not " + below);
    assertTrue(err <= Math.abs((double) x - above) || Float.isNaN(above), x + " -> " + rounded + " not " + above);
  }

  private static void put(SafetensorsWriter w, Spec s) {
    Random r = new Random(s.seed);
    int n = s.numel();
    switch (s.dtype) {
      case F32, BF16, F16 -> w.putFloats(s.name, floats(r, n), s.dtype, s.shape);
      case I32 -> w.putInts(s.name, r.ints(n).toArray(), s.shape);
      case I64, U8 -> {
        byte[] bytes = new byte[n * s.dtype.byteSize()];
        r.nextBytes(bytes);
        w.putBytes(s.name, s.dtype, s.shape, bytes);
      }
    }
  }

  private static void check(SafetensorsFile f, Spec s) {
    Random r = new Random(s.seed);
    int n = s.numel();
    switch (s.dtype) {
      case F32 -> assertArrayEquals(floats(r, n), f.readFloats(s.name));
      case BF16 -> {
        float[] want = floats(r, n);
        for (int i = 0; i < n; i++) {
          want[i] = Float.intBitsToFloat((SafetensorsWriter.toBf16(want[i]) & 0xffff) << 16);
        }
        assertArrayEquals(want, f.readFloats(s.name));
      }
      case F16 -> {
        float[] want = floats(r, n);
        for (int i = 0; i < n; i++) {
          want[i] = Float.float16ToFloat(Float.floatToFloat16(want[i]));
        }
        assertArrayEquals(want, f.readFloats(s.name));
      }
      case I32 -> assertArrayEquals(r.ints(n).toArray(), f.readInts(s.name));
      case I64, U8 -> {
        byte[] bytes = new byte[n * s.dtype.byteSize()];
        r.nextBytes(bytes);
        assertArrayEquals(bytes, f.segment(s.name).toArray(ValueLayout.JAVA_BYTE));
        if (s.dtype == DType.U8) {
          int[] ints = f.readInts(s.name);
          for (int i = 0; i < n; i++) {
            assertEquals(bytes[i] & 0xff, ints[i]);
          }
        }
      }
    }
  }

  /** Values spread over many magnitudes, both signs. */
  private static float[] floats(Random r, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
    }
    return x;
  }
}
