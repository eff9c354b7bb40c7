package io.github.lora4j.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

  @TempDir Path dir;

  private static void rejects(String fragment, Runnable put) {
    var e = assertThrows(IllegalArgumentException.class, put::run);
    assertTrue(e.getMessage().contains(fragment), "says '" + fragment + "': " + e.getMessage());
  }

  @Test
  void argumentsAreCheckedWhenPassed() {
    var w = new SafetensorsWriter().putFloats("a", new float[2], DType.F32, 2);
    rejects("tensor 'a' was already added", () -> w.putFloats("a", new float[2], DType.F32, 2));
    rejects("'__metadata__' is reserved", () -> w.putInts("__metadata__", new int[1], 1));
    rejects("'b': 5 elements given but shape [2, 3] needs 6", () -> w.putFloats("b", new float[5], DType.F32, 2, 3));
    rejects("dtype for putFloats must be F32, BF16 or F16: I32", () -> w.putFloats("c", new float[1], DType.I32, 1));
    rejects("'d': shape [-1] is not valid", () -> w.putInts("d", new int[0], -1));
    rejects("'e': 3 bytes are not a whole number of F32 elements",
        () -> w.putBytes("e", DType.F32, new long[] {1}, new byte[3]));
    assertEquals(List.of(new TensorInfo("a", DType.F32, new long[] {2})), w.tensors());
  }

  @Test
  void scalarsAndEmptyTensors() throws IOException {
    Path file = dir.resolve("s.safetensors");
    new SafetensorsWriter()
        .putFloats("scalar", new float[] {3.5f}, DType.F32)
        .putFloats("empty", new float[0], DType.BF16, 0, 4)
        .putInts("ids", new int[] {-1, 2}, 2)
        .write(file);
    try (var f = SafetensorsFile.open(file)) {
      assertEquals(0, f.info("scalar").rank());
      assertArrayEquals(new float[] {3.5f}, f.readFloats("scalar"));
      assertEquals(0, f.readFloats("empty").length);
      assertArrayEquals(new int[] {-1, 2}, f.readInts("ids"));
    }
  }

  @Test
  void copiesStraightFromAnotherFile() throws IOException {
    Path a = dir.resolve("a.safetensors");
    new SafetensorsWriter().putFloats("w", new float[] {1.25f, -3f}, DType.BF16, 1, 2).write(a);
    Path b = dir.resolve("b.safetensors");
    try (var src = SafetensorsFile.open(a)) {
      TensorInfo info = src.info("w");
      new SafetensorsWriter().putSegment("renamed", info.dtype(), info.shape(), src.segment("w")).write(b);
    }
    try (var f = SafetensorsFile.open(b)) {
      assertArrayEquals(new float[] {1.25f, -3f}, f.readFloats("renamed"));
    }
  }

  @Test
  void largeTensorIsWrittenInChunks() throws IOException {
    float[] big = new float[(1 << 20) + 3]; // more than one 1 MiB encoding chunk in every dtype
    for (int i = 0; i < big.length; i++) {
      big[i] = i % 256; // exact in bf16, which holds 8 significant bits
    }
    Path file = dir.resolve("big.safetensors");
    new SafetensorsWriter().putFloats("f32", big, DType.F32, big.length).putFloats("bf16", big, DType.BF16, big.length)
        .write(file);
    try (var f = SafetensorsFile.open(file)) {
      assertArrayEquals(big, f.readFloats("f32"));
      assertArrayEquals(big, f.readFloats("bf16"));
    }
  }

  @Test
  void replacesAnExistingFile() throws IOException {
    Path file = dir.resolve("w.safetensors");
    new SafetensorsWriter().putFloats("old", new float[] {1}, DType.F32, 1).write(file);
    new SafetensorsWriter().putFloats("new", new float[] {2}, DType.F32, 1).write(file);
    try (var f = SafetensorsFile.open(file)) {
      assertEquals(List.of("new"), f.names());
    }
    assertNoTemporaryFiles();
  }

  @Test
  void failedWriteLeavesTheExistingFileAndNoTemporary() throws IOException {
    Path file = dir.resolve("w.safetensors");
    new SafetensorsWriter().putFloats("old", new float[] {1}, DType.F32, 1).write(file);
    byte[] before = Files.readAllBytes(file);

    // A segment closed before write() makes the data copy fail half-way through the file.
    MemorySegment closed;
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      closed = arena.allocate(16);
    }
    var writer = new SafetensorsWriter()
        .putFloats("fine", new float[] {1, 2}, DType.F32, 2)
        .putSegment("gone", DType.F32, new long[] {4}, closed);
    assertThrows(IllegalStateException.class, () -> writer.write(file));

    assertArrayEquals(before, Files.readAllBytes(file));
    assertNoTemporaryFiles();
  }

  private void assertNoTemporaryFiles() throws IOException {
    try (var files = Files.list(dir)) {
      List<String> names = files.map(p -> p.getFileName().toString()).toList();
      assertTrue(names.stream().noneMatch(n -> n.endsWith(".tmp")), names.toString());
    }
  }
}
