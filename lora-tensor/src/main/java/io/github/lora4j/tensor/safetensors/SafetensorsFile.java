package io.github.lora4j.tensor.safetensors;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.github.lora4j.tensor.DType;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One memory-mapped safetensors file. {@link #open} checks the whole header before anything is
 * read, so a file that opens has every tensor inside the file, at the size its dtype and shape
 * call for, with no overlaps and no unclaimed bytes. The data is never copied as a whole: {@link
 * #segment} hands out slices of the mapping and the {@code read} methods copy one tensor.
 *
 * <p>The format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the
 * data buffer) plus an optional {@code "__metadata__"} string map, then the data buffer.
 *
 * <p>Instances may be read from several threads; {@link #close()} must not race with reads.
 */
public final class SafetensorsFile implements Safetensors {

  /** The largest header accepted, as in the reference implementation: refuses hostile lengths cheaply. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final String METADATA_KEY = "__metadata__";
  private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private record Entry(TensorInfo info, long begin, long end) {}

  private final Path path;
  private final Arena arena;
  private final MemorySegment data;
  private final Map<String, Entry> entries;
  private final List<String> names;
  private final Map<String, String> metadata;

  private SafetensorsFile(Path path, Arena arena, MemorySegment data, List<Entry> ordered, Map<String, String> metadata) {
    this.path = path;
    this.arena = arena;
    this.data = data;
    var byName = new LinkedHashMap<String, Entry>();
    for (Entry e : ordered) {
      byName.put(e.info.name(), e);
    }
    this.entries = Collections.unmodifiableMap(byName);
    this.names = List.copyOf(byName.keySet());
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /**
   * Maps the file and validates its header.
   *
   * @throws SafetensorsException naming the file and the offending key when the file is not valid
   *     safetensors (too short, header length beyond the file or above {@link #MAX_HEADER_BYTES},
   *     header not a JSON object, unknown dtype, negative dimension, bad or out-of-file
   *     data_offsets, size not matching dtype and shape, overlapping tensors, bytes claimed by no
   *     tensor)
   * @throws IOException when the file cannot be read
   */
  public static SafetensorsFile open(Path path) throws IOException {
    Arena arena = Arena.ofShared();
    try {
      MemorySegment file;
      try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
        long size = ch.size();
        if (size < 8) {
          throw new SafetensorsException(path, null, "file is " + size + " bytes, shorter than the 8-byte header length");
        }
        file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
      }
      long size = file.byteSize();
      long headerLength = file.get(I64_LE, 0);
      // The length is an unsigned 64-bit integer: a negative long is a length above 2^63.
      if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
        throw new SafetensorsException(path, null, "header length " + Long.toUnsignedString(headerLength)
            + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
      }
      if (headerLength > size - 8) {
        throw new SafetensorsException(path, null, "header length " + headerLength + " is larger than the file ("
            + size + " bytes, " + (size - 8) + " after the length)");
      }
      String header = decodeUtf8(path, file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE));
      MemorySegment data = file.asSlice(8 + headerLength).asReadOnly();
      var metadata = new TreeMap<String, String>();
      List<Entry> entries = parseHeader(path, header, data.byteSize(), metadata);
      return new SafetensorsFile(path, arena, data, entries, metadata);
    } catch (IOException | RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /** The file this was opened from. */
  public Path path() {
    return path;
  }

  @Override
  public List<String> names() {
    return names;
  }

  @Override
  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  @Override
  public TensorInfo info(String name) {
    return entry(name).info;
  }

  @Override
  public MemorySegment segment(String name) {
    Entry e = entry(name);
    return data.asSlice(e.begin, e.end - e.begin);
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public float[] readFloats(String name) {
    TensorInfo info = info(name);
    float[] dst = new float[arrayLength(info, "readFloats")];
    readFloats(name, dst, 0);
    return dst;
  }

  @Override
  public void readFloats(String name, float[] dst, int offset) {
    Entry e = entry(name);
    int n = arrayLength(e.info, "readFloats");
    if (offset < 0 || offset > dst.length - n) {
      throw new IllegalArgumentException(path + ": '" + name + "': " + n + " elements do not fit in an array of "
          + dst.length + " from offset " + offset);
    }
    MemorySegment src = data.asSlice(e.begin, e.end - e.begin);
    switch (e.info.dtype()) {
      case F32 -> MemorySegment.copy(src, F32_LE, 0, dst, offset, n);
      // bf16 is the upper half of an f32: widening is a shift, exact for every value.
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          dst[offset + i] = Float.intBitsToFloat((src.getAtIndex(I16_LE, i) & 0xffff) << 16);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          dst[offset + i] = Float.float16ToFloat(src.getAtIndex(I16_LE, i));
        }
      }
      default -> throw new IllegalArgumentException(path + ": '" + name + "': is " + e.info.dtype()
          + "; readFloats reads F32, BF16 and F16");
    }
  }

  @Override
  public int[] readInts(String name) {
    Entry e = entry(name);
    int n = arrayLength(e.info, "readInts");
    int[] dst = new int[n];
    MemorySegment src = data.asSlice(e.begin, e.end - e.begin);
    switch (e.info.dtype()) {
      case I32 -> MemorySegment.copy(src, I32_LE, 0, dst, 0, n);
      case I64 -> {
        for (int i = 0; i < n; i++) {
          long v = src.getAtIndex(I64_LE, i);
          if (v != (int) v) {
            throw new IllegalArgumentException(path + ": '" + name + "': element " + i + " is " + v
                + ", outside the int range");
          }
          dst[i] = (int) v;
        }
      }
      case U8 -> {
        for (int i = 0; i < n; i++) {
          dst[i] = src.get(ValueLayout.JAVA_BYTE, i) & 0xff;
        }
      }
      default -> throw new IllegalArgumentException(path + ": '" + name + "': is " + e.info.dtype()
          + "; readInts reads I32, I64 and U8");
    }
    return dst;
  }

  @Override
  public void close() {
    arena.close();
  }

  @Override
  public String toString() {
    return "SafetensorsFile[" + path + ", " + names.size() + " tensors]";
  }

  private Entry entry(String name) {
    Entry e = entries.get(name);
    if (e == null) {
      throw new IllegalArgumentException(path + ": no tensor named '" + name + "' (the file holds " + names.size()
          + " tensors)");
    }
    return e;
  }

  private int arrayLength(TensorInfo info, String method) {
    long n = info.numel();
    // The largest array length every JVM allocates.
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(path + ": '" + info.name() + "': " + n + " elements are too many for one "
          + "Java array; " + method + " reads at most " + (Integer.MAX_VALUE - 8) + "; use segment()");
    }
    return (int) n;
  }

  private static String decodeUtf8(Path path, byte[] bytes) throws SafetensorsException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new SafetensorsException(path, null, "header is not valid UTF-8", e);
    }
  }

  // ---- header parsing: a streaming read, so duplicate keys are seen and no tree is built ----

  private static List<Entry> parseHeader(Path path, String header, long dataLength, Map<String, String> metadata)
      throws SafetensorsException {
    var entries = new ArrayList<Entry>();
    String key = null;
    try {
      JsonReader r = new JsonReader(new StringReader(header));
      r.setStrictness(Strictness.STRICT);
      if (r.peek() != JsonToken.BEGIN_OBJECT) {
        throw new SafetensorsException(path, null, "header is not a JSON object but " + describe(r.peek()));
      }
      r.beginObject();
      Set<String> seen = new HashSet<>();
      while (r.hasNext()) {
        key = r.nextName();
        if (!seen.add(key)) {
          throw new SafetensorsException(path, key, "appears twice in the header");
        }
        if (key.equals(METADATA_KEY)) {
          readMetadata(path, r, metadata);
        } else {
          entries.add(readEntry(path, key, r, dataLength));
        }
      }
      key = null;
      r.endObject();
      if (r.peek() != JsonToken.END_DOCUMENT) {
        throw new SafetensorsException(path, null, "header has content after its JSON object");
      }
    } catch (SafetensorsException e) {
      throw e;
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      // Gson reports syntax errors (and nesting beyond its limit) as MalformedJsonException.
      throw new SafetensorsException(path, key, "header is not valid JSON: " + e.getMessage(), e);
    }
    checkLayout(path, entries, dataLength);
    return entries;
  }

  private static void readMetadata(Path path, JsonReader r, Map<String, String> metadata) throws IOException {
    if (r.peek() == JsonToken.NULL) {
      r.nextNull();
      return;
    }
    if (r.peek() != JsonToken.BEGIN_OBJECT) {
      throw new SafetensorsException(path, METADATA_KEY, "must be an object of strings, not " + describe(r.peek()));
    }
    r.beginObject();
    while (r.hasNext()) {
      String k = r.nextName();
      if (r.peek() != JsonToken.STRING) {
        throw new SafetensorsException(path, METADATA_KEY, "value of '" + k + "' must be a string, not "
            + describe(r.peek()));
      }
      metadata.put(k, r.nextString());
    }
    r.endObject();
  }

  private static Entry readEntry(Path path, String name, JsonReader r, long dataLength) throws IOException {
    if (r.peek() != JsonToken.BEGIN_OBJECT) {
      throw new SafetensorsException(path, name, "must be an object with dtype, shape and data_offsets, not "
          + describe(r.peek()));
    }
    String dtypeName = null;
    long[] shape = null;
    long[] offsets = null;
    r.beginObject();
    while (r.hasNext()) {
      String field = r.nextName();
      switch (field) {
        case "dtype" -> {
          if (r.peek() != JsonToken.STRING) {
            throw new SafetensorsException(path, name, "dtype must be a string, not " + describe(r.peek()));
          }
          dtypeName = r.nextString();
        }
        case "shape" -> shape = readIntegers(path, name, "shape", r);
        case "data_offsets" -> offsets = readIntegers(path, name, "data_offsets", r);
        // Unknown fields are skipped: a newer writer may add some.
        default -> r.skipValue();
      }
    }
    r.endObject();
    if (dtypeName == null || shape == null || offsets == null) {
      String missing = dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets";
      throw new SafetensorsException(path, name, "has no " + missing);
    }
    DType dtype;
    try {
      dtype = DType.fromSafetensors(dtypeName);
    } catch (IllegalArgumentException e) {
      throw new SafetensorsException(path, name, "dtype '" + dtypeName + "' is not supported; lora4j reads "
          + Arrays.stream(DType.values()).map(DType::safetensorsName).toList());
    }
    if (offsets.length != 2) {
      throw new SafetensorsException(path, name, "data_offsets must be two integers [begin, end], not "
          + offsets.length + ": " + Arrays.toString(offsets));
    }
    long begin = offsets[0];
    long end = offsets[1];
    if (begin > end) {
      throw new SafetensorsException(path, name, "data_offsets " + Arrays.toString(offsets) + " end before they begin");
    }
    long numel;
    long bytes;
    try {
      numel = TensorInfo.numel(shape);
      bytes = Math.multiplyExact(numel, dtype.byteSize());
    } catch (ArithmeticException e) {
      throw new SafetensorsException(path, name, "shape " + Arrays.toString(shape) + " has more elements than a "
          + "64-bit count holds");
    }
    if (end - begin != bytes) {
      throw new SafetensorsException(path, name, "data_offsets " + Arrays.toString(offsets) + " span " + (end - begin)
          + " bytes but " + dtype.safetensorsName() + " " + Arrays.toString(shape) + " needs " + bytes);
    }
    if (end > dataLength) {
      throw new SafetensorsException(path, name, "data_offsets " + Arrays.toString(offsets) + " point outside the "
          + "file: its data buffer holds " + dataLength + " bytes");
    }
    return new Entry(new TensorInfo(name, dtype, shape), begin, end);
  }

  /** Reads an array of non-negative integers that fit in a long. */
  private static long[] readIntegers(Path path, String name, String field, JsonReader r) throws IOException {
    if (r.peek() != JsonToken.BEGIN_ARRAY) {
      throw new SafetensorsException(path, name, field + " must be an array of non-negative integers, not "
          + describe(r.peek()));
    }
    var values = new ArrayList<Long>();
    r.beginArray();
    while (r.hasNext()) {
      if (r.peek() != JsonToken.NUMBER) {
        throw new SafetensorsException(path, name, field + " must hold non-negative integers, not "
            + describe(r.peek()));
      }
      String literal = r.nextString();
      long v;
      try {
        v = Long.parseLong(literal);
      } catch (NumberFormatException e) {
        throw new SafetensorsException(path, name, field + " must hold non-negative integers below 2^63, not "
            + literal);
      }
      if (v < 0) {
        throw new SafetensorsException(path, name, field + " must hold non-negative integers, not " + literal);
      }
      values.add(v);
    }
    r.endArray();
    return values.stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Every byte of the data buffer belongs to exactly one tensor, as the format requires: sorted by
   * offset, each tensor begins where the one before ended, and the last ends at the buffer's end.
   */
  private static void checkLayout(Path path, List<Entry> entries, long dataLength) throws SafetensorsException {
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end)
        .thenComparing(e -> e.info.name()));
    long cursor = 0;
    Entry previous = null;
    for (Entry e : entries) {
      if (e.begin < cursor) {
        throw new SafetensorsException(path, e.info.name(), "data_offsets [" + e.begin + ", " + e.end
            + "] overlap those of '" + previous.info.name() + "' [" + previous.begin + ", " + previous.end + "]");
      }
      if (e.begin > cursor) {
        throw new SafetensorsException(path, e.info.name(), "bytes [" + cursor + ", " + e.begin + ") of the data "
            + "buffer before this tensor belong to no tensor" + (previous == null ? "" : " (after '"
            + previous.info.name() + "')"));
      }
      cursor = e.end;
      previous = e;
    }
    if (cursor != dataLength) {
      throw new SafetensorsException(path, previous == null ? null : previous.info.name(), "bytes [" + cursor
          + ", " + dataLength + ") at the end of the data buffer belong to no tensor");
    }
  }

  private static String describe(JsonToken token) {
    return switch (token) {
      case BEGIN_ARRAY -> "an array";
      case BEGIN_OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> token.toString();
    };
  }
}
