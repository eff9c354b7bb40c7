package io.github.lora4j.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsCheckpointTest {

  @TempDir Path dir;

  private static final String SHARD1 = "model-00001-of-00002.safetensors";
  private static final String SHARD2 = "model-00002-of-00002.safetensors";

  private void twoShards() throws IOException {
    new SafetensorsWriter()
        .putFloats("model.embed_tokens.weight", new float[] {1, 2, 3, 4, 5, 6}, DType.BF16, 3, 2)
        .putFloats("model.layers.0.self_attn.q_proj.weight", new float[] {1, 0, 0, 1}, DType.F32, 2, 2)
        .metadata("format", "pt")
        .write(dir.resolve(SHARD1));
    new SafetensorsWriter()
        .putFloats("model.norm.weight", new float[] {0.5f, 0.25f}, DType.F16, 2)
        .putFloats("lm_head.weight", new float[] {7, 8, 9, 10, 11, 12}, DType.BF16, 3, 2)
        .write(dir.resolve(SHARD2));
  }

  private void index(String weightMap) throws IOException {
    Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE),
        "{\"metadata\": {\"total_size\": 44}, \"weight_map\": {" + weightMap + "}}");
  }

  private static final String FULL_MAP = "\"lm_head.weight\": \"" + SHARD2 + "\", "
      + "\"model.embed_tokens.weight\": \"" + SHARD1 + "\", "
      + "\"model.layers.0.self_attn.q_proj.weight\": \"" + SHARD1 + "\", "
      + "\"model.norm.weight\": \"" + SHARD2 + "\"";

  private SafetensorsException rejected(Path blamed, String key, String fragment) {
    var e = assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir).close());
    String m = e.getMessage();
    assertTrue(m.startsWith(blamed.toString()), "names " + blamed + ": " + m);
    if (key != null) {
      assertTrue(m.contains("'" + key + "'"), "names the key " + key + ": " + m);
    }
    assertTrue(m.contains(fragment), "says '" + fragment + "': " + m);
    return e;
  }

  @Test
  void shardedIndexGivesOneView() throws IOException {
    twoShards();
    index(FULL_MAP);
    try (var ckpt = SafetensorsCheckpoint.open(dir)) {
      assertEquals(2, ckpt.shards().size());
      assertEquals(List.of("model.layers.0.self_attn.q_proj.weight", "model.embed_tokens.weight",
          "lm_head.weight", "model.norm.weight"), ckpt.names());
      assertEquals(new TensorInfo("lm_head.weight", DType.BF16, new long[] {3, 2}), ckpt.info("lm_head.weight"));
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, ckpt.readFloats("model.embed_tokens.weight"));
      assertArrayEquals(new float[] {7, 8, 9, 10, 11, 12}, ckpt.readFloats("lm_head.weight"));
      assertArrayEquals(new float[] {0.5f, 0.25f}, ckpt.readFloats("model.norm.weight"));
      assertEquals(dir.resolve(SHARD2), ckpt.shardOf("model.norm.weight").path());
      assertEquals(Map.of("total_size", "44"), ckpt.metadata());
      assertTrue(ckpt.contains("model.norm.weight"));
      var e = assertThrows(IllegalArgumentException.class, () -> ckpt.info("missing.weight"));
      assertTrue(e.getMessage().contains("'missing.weight'"), e.getMessage());
    }
    try (Safetensors any = Safetensors.open(dir.resolve(SafetensorsCheckpoint.INDEX_FILE))) {
      assertEquals(4, any.names().size());
    }
  }

  @Test
  void singleFileDirectory() throws IOException {
    new SafetensorsWriter().putFloats("w", new float[] {1, 2}, DType.F32, 2).write(dir.resolve("model.safetensors"));
    try (var ckpt = SafetensorsCheckpoint.open(dir)) {
      assertEquals(List.of("w"), ckpt.names());
      assertArrayEquals(new float[] {1, 2}, ckpt.readFloats("w"));
    }
    try (Safetensors f = Safetensors.open(dir.resolve("model.safetensors"))) {
      assertInstanceOf(SafetensorsFile.class, f);
    }
  }

  @Test
  void noWeightsInDirectory() {
    rejected(dir, null, "no weights found: the directory holds neither model.safetensors nor "
        + "model.safetensors.index.json");
  }

  @Test
  void missingShardFile() throws IOException {
    twoShards();
    Files.delete(dir.resolve(SHARD2));
    index(FULL_MAP);
    rejected(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "lm_head.weight",
        "is mapped to shard '" + SHARD2 + "', which does not exist in");
  }

  @Test
  void keyMappedToShardThatLacksIt() throws IOException {
    twoShards();
    index(FULL_MAP.replace("\"model.norm.weight\": \"" + SHARD2, "\"model.norm.weight\": \"" + SHARD1));
    rejected(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "model.norm.weight",
        "is mapped to shard '" + SHARD1 + "', which does not contain it");
  }

  @Test
  void shardOutsideTheDirectory() throws IOException {
    twoShards();
    index("\"w\": \"../elsewhere.safetensors\"");
    rejected(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "w", "shard '../elsewhere.safetensors' is not a file in");
  }

  @Test
  void malformedIndex() throws IOException {
    Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"weight_map\": [");
    rejected(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), null, "not valid JSON");
    Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"metadata\": {}}");
    rejected(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "weight_map", "is missing");
    Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"weight_map\": {\"w\": 3}}");
    rejected(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "w", "weight_map value must be a shard file name");
  }

  @Test
  void invalidShardIsNamed() throws IOException {
    twoShards();
    Files.write(dir.resolve(SHARD2), new byte[3]);
    index(FULL_MAP);
    rejected(dir.resolve(SHARD2), null, "shorter than the 8-byte header length");
  }
}
