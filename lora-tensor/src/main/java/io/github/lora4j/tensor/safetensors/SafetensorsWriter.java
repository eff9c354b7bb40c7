package io.github.lora4j.tensor.safetensors;

import io.github.lora4j.tensor.TempSiblings;
import com.google.gson.stream.JsonWriter;
import io.github.lora4j.tensor.DType;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Collects named tensors and string metadata, then writes them as one safetensors file.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *     .putFloats("lora_A.weight", a, DType.F32, 32, 4096)
 *     .metadata("format", "pt")
 *     .write(dir.resolve("adapter_model.safetensors"));
 * }</pre>
 *
 * <p>The file is byte-identical to what the reference implementation ({@code
 * safetensors.torch.save_file}) writes for the same tensors and at most one metadata entry:
 * tensors ordered by dtype as it orders them (I64, F32, I32, BF16, F16, U8), then by name; a
 * compact JSON header padded with spaces so the data starts at a multiple of 8 bytes. With more
 * metadata entries this writer sorts their keys, where the reference follows a hash map's order.
 *
 * <p>Arrays passed in are read when {@link #write} runs, not copied: leave them unchanged until
 * then. Arguments are checked when they are passed.
 */
public final class SafetensorsWriter {

  /** Header and data alignment of the reference implementation. */
  private static final int ALIGNMENT = 8;

  private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Where the data of one tensor comes from; each knows its bytes and writes them little-endian. */
  private sealed interface Payload {
    /** Writes bytes [from, to) of this payload's encoding into {@code out} (a heap segment). */
    void encode(long from, long to, MemorySegment out);
  }

  private record Floats(float[] values, DType dtype) implements Payload {
    @Override
    public void encode(long from, long to, MemorySegment out) {
      int size = dtype.byteSize();
      int first = (int) (from / size);
      int n = (int) ((to - from) / size);
      switch (dtype) {
        case F32 -> MemorySegment.copy(values, first, out, F32_LE, 0, n);
        case BF16 -> {
          for (int i = 0; i < n; i++) {
            out.setAtIndex(I16_LE, i, toBf16(values[first + i]));
          }
        }
        case F16 -> {
          for (int i = 0; i < n; i++) {
            out.setAtIndex(I16_LE, i, Float.floatToFloat16(values[first + i]));
          }
        }
        default -> throw new AssertionError(dtype);
      }
    }
  }

  private record Ints(int[] values) implements Payload {
    @Override
    public void encode(long from, long to, MemorySegment out) {
      MemorySegment.copy(values, (int) (from / 4), out, I32_LE, 0, (int) ((to - from) / 4));
    }
  }

  private record Raw(MemorySegment bytes) implements Payload {
    @Override
    public void encode(long from, long to, MemorySegment out) {
      MemorySegment.copy(bytes, from, out, 0, to - from);
    }
  }

  private record Pending(TensorInfo info, Payload payload) {}

  private final Map<String, Pending> tensors = new LinkedHashMap<>();
  private final Map<String, String> metadata = new TreeMap<>();

  /** An empty writer. */
  public SafetensorsWriter() {}

  /**
   * Adds a tensor from floats, stored as {@code dtype}: F32 as is, BF16 rounded to nearest even
   * (as torch's {@code .to(torch.bfloat16)}), F16 rounded to nearest even.
   *
   * @throws IllegalArgumentException for another dtype, a repeated or reserved name, a negative
   *     dimension, or a length that is not the shape's element count
   */
  public SafetensorsWriter putFloats(String name, float[] values, DType dtype, long... shape) {
    Objects.requireNonNull(values, "values");
    if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
      throw new IllegalArgumentException("dtype for putFloats must be F32, BF16 or F16: " + dtype);
    }
    return add(name, dtype, shape, values.length, new Floats(values, dtype));
  }

  /**
   * Adds an I32 tensor.
   *
   * @throws IllegalArgumentException for a repeated or reserved name, a negative dimension, or a
   *     length that is not the shape's element count
   */
  public SafetensorsWriter putInts(String name, int[] values, long... shape) {
    Objects.requireNonNull(values, "values");
    return add(name, DType.I32, shape, values.length, new Ints(values));
  }

  /**
   * Adds a tensor from its raw little-endian bytes.
   *
   * @throws IllegalArgumentException for a repeated or reserved name, a negative dimension, or a
   *     byte count that is not the shape's element count times the dtype's size
   */
  public SafetensorsWriter putBytes(String name, DType dtype, long[] shape, byte[] littleEndianBytes) {
    Objects.requireNonNull(littleEndianBytes, "littleEndianBytes");
    return putSegment(name, dtype, shape, MemorySegment.ofArray(littleEndianBytes));
  }

  /**
   * Adds a tensor from raw little-endian bytes in a segment, for instance one from {@link
   * SafetensorsFile#segment}: the bytes are copied straight from it at {@link #write}, so the
   * segment must stay open until then.
   *
   * @throws IllegalArgumentException as {@link #putBytes}
   */
  public SafetensorsWriter putSegment(String name, DType dtype, long[] shape, MemorySegment littleEndianBytes) {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(littleEndianBytes, "littleEndianBytes");
    long size = littleEndianBytes.byteSize();
    if (size % dtype.byteSize() != 0) {
      throw new IllegalArgumentException("'" + name + "': " + size + " bytes are not a whole number of "
          + dtype + " elements");
    }
    return add(name, dtype, shape, size / dtype.byteSize(), new Raw(littleEndianBytes));
  }

  /** Adds one {@code "__metadata__"} entry; a later call with the same key replaces the value. */
  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return this;
  }

  /** Adds every entry of {@code entries} to the metadata. */
  public SafetensorsWriter metadata(Map<String, String> entries) {
    entries.forEach(this::metadata);
    return this;
  }

  /** The tensors added so far, in the order they will be stored. */
  public List<TensorInfo> tensors() {
    return ordered().stream().map(Pending::info).toList();
  }

  /**
   * Writes the file: first to a temporary file in the same directory, flushed to disk, then
   * renamed over {@code file} in one step. A failure leaves no partial file and an existing
   * {@code file} untouched.
   *
   * @throws IOException when the directory cannot be written
   */
  public void write(Path file) throws IOException {
    List<Pending> ordered = ordered();
    byte[] header = header(ordered);
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = TempSiblings.file(dir, "." + file.getFileName() + ".", ".tmp");
    try {
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
        writeFully(out, length);
        writeFully(out, ByteBuffer.wrap(header));
        // Encode in chunks so that writing a large tensor takes little extra heap.
        byte[] chunk = new byte[1 << 20];
        MemorySegment chunkSegment = MemorySegment.ofArray(chunk);
        for (Pending p : ordered) {
          long total = p.info.byteSize();
          long step = chunk.length - chunk.length % p.info.dtype().byteSize();
          for (long from = 0; from < total; from += step) {
            long to = Math.min(total, from + step);
            p.payload.encode(from, to, chunkSegment);
            writeFully(out, ByteBuffer.wrap(chunk, 0, (int) (to - from)));
          }
        }
        out.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException | Error e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** torch's float to bfloat16 conversion (c10's round_to_nearest_even): every NaN becomes 0x7FC0. */
  static short toBf16(float f) {
    if (Float.isNaN(f)) {
      return (short) 0x7FC0;
    }
    int bits = Float.floatToRawIntBits(f);
    int roundingBias = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  private SafetensorsWriter add(String name, DType dtype, long[] shape, long count, Payload payload) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(shape, "shape");
    if (name.equals("__metadata__")) {
      throw new IllegalArgumentException("'__metadata__' is reserved for the header's metadata, not a tensor name");
    }
    if (tensors.containsKey(name)) {
      throw new IllegalArgumentException("tensor '" + name + "' was already added");
    }
    TensorInfo info;
    try {
      info = new TensorInfo(name, dtype, shape);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException("'" + name + "': shape " + Arrays.toString(shape) + " is not valid: "
          + e.getMessage(), e);
    }
    if (info.numel() != count) {
      throw new IllegalArgumentException("'" + name + "': " + count + " elements given but shape "
          + Arrays.toString(shape) + " needs " + info.numel());
    }
    tensors.put(name, new Pending(info, payload));
    return this;
  }

  /** The reference implementation's order: larger dtypes first (its enum's order), then by name. */
  private List<Pending> ordered() {
    var list = new ArrayList<>(tensors.values());
    list.sort(Comparator.comparingInt((Pending p) -> referenceRank(p.info.dtype())).thenComparing(p -> p.info.name()));
    return list;
  }

  private static int referenceRank(DType dtype) {
    return switch (dtype) {
      case I64 -> 0;
      case F32 -> 1;
      case I32 -> 2;
      case BF16 -> 3;
      case F16 -> 4;
      case U8 -> 5;
    };
  }

  private byte[] header(List<Pending> ordered) {
    var json = new StringWriter();
    try (JsonWriter w = new JsonWriter(json)) {
      w.setHtmlSafe(false);
      w.beginObject();
      if (!metadata.isEmpty()) {
        w.name("__metadata__").beginObject();
        for (var e : metadata.entrySet()) {
          w.name(e.getKey()).value(e.getValue());
        }
        w.endObject();
      }
      long offset = 0;
      for (Pending p : ordered) {
        w.name(p.info.name()).beginObject();
        w.name("dtype").value(p.info.dtype().safetensorsName());
        w.name("shape").beginArray();
        for (long d : p.info.shape()) {
          w.value(d);
        }
        w.endArray();
        long end = offset + p.info.byteSize();
        w.name("data_offsets").beginArray().value(offset).value(end).endArray();
        w.endObject();
        offset = end;
      }
      w.endObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to a string", e);
    }
    byte[] bytes = json.toString().getBytes(StandardCharsets.UTF_8);
    // Pad with spaces (valid JSON whitespace) so that 8 + header length is a multiple of 8.
    int padded = (bytes.length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    byte[] header = Arrays.copyOf(bytes, padded);
    Arrays.fill(header, bytes.length, padded, (byte) ' ');
    return header;
  }

  private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }
}
