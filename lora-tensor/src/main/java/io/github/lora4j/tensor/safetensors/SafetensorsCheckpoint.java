package io.github.lora4j.tensor.safetensors;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.IOException;
import java.io.Reader;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model's weights as one view, whether stored in one {@code model.safetensors} or sharded
 * across the files a {@code model.safetensors.index.json} names in its {@code "weight_map"}
 * (tensor name to shard file), as transformers saves them.
 *
 * <pre>{@code
 * try (var weights = SafetensorsCheckpoint.open(Path.of("Meta-Llama-3.1-8B"))) {
 *   TensorInfo q = weights.info("model.layers.0.self_attn.q_proj.weight"); // BF16 [4096, 4096]
 * }
 * }</pre>
 */
public final class SafetensorsCheckpoint implements Safetensors {

  /** The file name of unsharded weights. */
  public static final String SINGLE_FILE = "model.safetensors";

  /** The file name of the index of sharded weights. */
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private final Path source;
  private final List<SafetensorsFile> shards;
  private final Map<String, SafetensorsFile> shardOf;
  private final List<String> names;
  private final Map<String, String> metadata;

  private SafetensorsCheckpoint(Path source, List<SafetensorsFile> shards, Map<String, SafetensorsFile> shardOf,
      Map<String, String> metadata) {
    this.source = source;
    this.shards = List.copyOf(shards);
    this.shardOf = shardOf;
    var ordered = new ArrayList<String>();
    for (SafetensorsFile shard : shards) {
      for (String name : shard.names()) {
        if (shardOf.get(name) == shard) {
          ordered.add(name);
        }
      }
    }
    this.names = List.copyOf(ordered);
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /**
   * Opens a model's weights: {@code path} is a model directory (holding {@value #INDEX_FILE} or
   * else {@value #SINGLE_FILE}), an index file, or a single safetensors file.
   *
   * @throws SafetensorsException naming the directory when it holds no weights; naming the index
   *     file and the key for a malformed index, a shard file that is missing or escapes the
   *     directory, or a key whose shard lacks it; naming the shard for an invalid shard
   * @throws IOException when a file cannot be read
   */
  public static SafetensorsCheckpoint open(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      Path index = path.resolve(INDEX_FILE);
      if (Files.isRegularFile(index)) {
        return openIndex(index);
      }
      Path single = path.resolve(SINGLE_FILE);
      if (Files.isRegularFile(single)) {
        return openSingle(single);
      }
      throw new SafetensorsException(path, null, "no weights found: the directory holds neither " + SINGLE_FILE
          + " nor " + INDEX_FILE);
    }
    if (!Files.isRegularFile(path)) {
      throw new SafetensorsException(path, null, "no such file or directory");
    }
    return path.getFileName().toString().endsWith(".json") ? openIndex(path) : openSingle(path);
  }

  private static SafetensorsCheckpoint openSingle(Path file) throws IOException {
    SafetensorsFile f = SafetensorsFile.open(file);
    var shardOf = new LinkedHashMap<String, SafetensorsFile>();
    for (String name : f.names()) {
      shardOf.put(name, f);
    }
    return new SafetensorsCheckpoint(file, List.of(f), shardOf, f.metadata());
  }

  private static SafetensorsCheckpoint openIndex(Path index) throws IOException {
    if (Files.size(index) > SafetensorsFile.MAX_HEADER_BYTES) {
      throw new SafetensorsException(index, null, "index is " + Files.size(index) + " bytes, above the limit of "
          + SafetensorsFile.MAX_HEADER_BYTES);
    }
    JsonElement root;
    try (Reader reader = Files.newBufferedReader(index)) {
      JsonReader json = new JsonReader(reader);
      json.setStrictness(Strictness.STRICT);
      root = JsonParser.parseReader(json);
    } catch (JsonParseException | IllegalStateException e) {
      throw new SafetensorsException(index, null, "not valid JSON: " + e.getMessage(), e);
    }
    if (!root.isJsonObject()) {
      throw new SafetensorsException(index, null, "must be a JSON object with a \"weight_map\"");
    }
    JsonElement map = root.getAsJsonObject().get("weight_map");
    if (map == null || !map.isJsonObject()) {
      throw new SafetensorsException(index, "weight_map", map == null ? "is missing"
          : "must be an object from tensor name to shard file");
    }
    Path dir = index.toAbsolutePath().getParent().normalize();
    var shardNames = new TreeMap<String, String>(); // shard file -> first tensor mapped to it
    var fileOf = new LinkedHashMap<String, String>();
    for (var e : map.getAsJsonObject().entrySet()) {
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw new SafetensorsException(index, e.getKey(), "weight_map value must be a shard file name, not " + v);
      }
      String shard = v.getAsString();
      Path resolved = dir.resolve(shard).normalize();
      if (Path.of(shard).isAbsolute() || !resolved.getParent().equals(dir)) {
        throw new SafetensorsException(index, e.getKey(), "shard '" + shard + "' is not a file in " + dir);
      }
      shardNames.putIfAbsent(shard, e.getKey());
      fileOf.put(e.getKey(), shard);
    }
    var opened = new LinkedHashMap<String, SafetensorsFile>();
    try {
      for (var e : shardNames.entrySet()) {
        Path shardPath = dir.resolve(e.getKey());
        if (!Files.isRegularFile(shardPath)) {
          throw new SafetensorsException(index, e.getValue(), "is mapped to shard '" + e.getKey()
              + "', which does not exist in " + dir);
        }
        opened.put(e.getKey(), SafetensorsFile.open(shardPath));
      }
      var shardOf = new LinkedHashMap<String, SafetensorsFile>();
      for (var e : fileOf.entrySet()) {
        SafetensorsFile shard = opened.get(e.getValue());
        if (!shard.contains(e.getKey())) {
          throw new SafetensorsException(index, e.getKey(), "is mapped to shard '" + e.getValue()
              + "', which does not contain it");
        }
        shardOf.put(e.getKey(), shard);
      }
      return new SafetensorsCheckpoint(index, new ArrayList<>(opened.values()), shardOf,
          indexMetadata(root.getAsJsonObject()));
    } catch (IOException | RuntimeException e) {
      opened.values().forEach(SafetensorsFile::close);
      throw e;
    }
  }

  /** The index's "metadata" object as strings (transformers writes {"total_size": bytes}). */
  private static Map<String, String> indexMetadata(JsonObject root) {
    var out = new TreeMap<String, String>();
    JsonElement m = root.get("metadata");
    if (m != null && m.isJsonObject()) {
      for (var e : m.getAsJsonObject().entrySet()) {
        JsonElement v = e.getValue();
        out.put(e.getKey(), v.isJsonPrimitive() ? v.getAsString() : v.toString());
      }
    }
    return out;
  }

  /** The index file or the single safetensors file this was opened from. */
  public Path source() {
    return source;
  }

  /** The shard files, each opened once. */
  public List<SafetensorsFile> shards() {
    return shards;
  }

  /** The shard holding a tensor. */
  public SafetensorsFile shardOf(String name) {
    SafetensorsFile f = shardOf.get(name);
    if (f == null) {
      throw new IllegalArgumentException(source + ": no tensor named '" + name + "' (the checkpoint holds "
          + names.size() + " tensors)");
    }
    return f;
  }

  @Override
  public List<String> names() {
    return names;
  }

  @Override
  public boolean contains(String name) {
    return shardOf.containsKey(name);
  }

  @Override
  public TensorInfo info(String name) {
    return shardOf(name).info(name);
  }

  @Override
  public MemorySegment segment(String name) {
    return shardOf(name).segment(name);
  }

  @Override
  public float[] readFloats(String name) {
    return shardOf(name).readFloats(name);
  }

  @Override
  public void readFloats(String name, float[] dst, int offset) {
    shardOf(name).readFloats(name, dst, offset);
  }

  @Override
  public int[] readInts(String name) {
    return shardOf(name).readInts(name);
  }

  /** The index's metadata (e.g. {@code total_size}), or the single file's header metadata. */
  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public void close() {
    shards.forEach(SafetensorsFile::close);
  }

  @Override
  public String toString() {
    return "SafetensorsCheckpoint[" + source + ", " + shards.size() + " shards, " + names.size() + " tensors]";
  }
}
