package io.github.lora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import io.github.lora4j.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {

  @TempDir Path dir;

  record Result(int code, String out, String err) {
    List<String> outLines() {
      return out.lines().toList();
    }
  }

  static Result run(String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    var cli = Lora4jCommand.newCommandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  /** A model directory holding one of the configs bundled with lora-core. */
  private Path modelDir(String bundled) throws IOException {
    Path model = Files.createDirectories(dir.resolve(bundled));
    try (InputStream in = ModelConfig.class.getResourceAsStream("configs/" + bundled + ".json")) {
      Files.write(model.resolve("config.json"), in.readAllBytes());
    }
    return model;
  }

  private static Path tinyAdapter() {
    try {
      return Path.of(InspectCommandTest.class.getResource("peft-0.21-tiny").toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  private static void assertLine(Result r, String line) {
    assertTrue(r.outLines().contains(line), "no line '" + line + "' in:\n" + r.out + r.err);
  }

  private static void assertOneErrorLine(Result r, String fragment) {
    assertEquals(2, r.code, r.out + r.err);
    List<String> lines = r.err.lines().toList();
    assertEquals(1, lines.size(), r.err);
    assertTrue(lines.get(0).startsWith("lora4j inspect: ") && lines.get(0).contains(fragment), r.err);
  }

  @Test
  void llama31_8bWithR32OnAttention() throws IOException {
    Result r = run("inspect", "--model", modelDir("llama-3.1-8b").toString(), "--r", "32", "--alpha", "64",
        "--target", "q_proj,k_proj,v_proj,o_proj");
    assertEquals(0, r.code, r.err);
    assertEquals("", r.err);
    assertLine(r, "trainable parameters: 27,262,976 (109.05 MB in fp32)");
    assertLine(r, "base parameters: 8,030,261,248");
    assertLine(r, "LoRA: r=32, lora_alpha=64, scaling 2, dropout 0, targets q_proj,k_proj,v_proj,o_proj");
    assertLine(r, "  128 adapted modules in 32 of 32 layers");
    assertTrue(r.out.contains("decoder layer × 32"), r.out);
    assertLine(r, "  llama, bfloat16, 32 layers, hidden 4096, 32 heads (8 key/value), head_dim 128, vocab 128256");
    assertTrue(r.out.contains("Embedding [128256, 4096]"), r.out);
    assertTrue(r.out.contains("rope: llama3, theta 500000, factor 8, low_freq_factor 1, high_freq_factor 4, "
        + "original_max_position_embeddings 8192"), r.out);
    String q = r.outLines().stream().filter(l -> l.contains("self_attn.q_proj")).findFirst().orElseThrow();
    assertTrue(q.contains("Linear 4096 → 4096") && q.contains("LoRA A [32, 4096]  B [4096, 32]"), q);
    String k = r.outLines().stream().filter(l -> l.contains("self_attn.k_proj")).findFirst().orElseThrow();
    assertTrue(k.contains("Linear 4096 → 1024") && k.contains("B [1024, 32]"), k);
    String gate = r.outLines().stream().filter(l -> l.contains("mlp.gate_proj")).findFirst().orElseThrow();
    assertTrue(gate.contains("Linear 4096 → 14336") && !gate.contains("LoRA"), gate);
    String head = r.outLines().stream().filter(l -> l.startsWith("  lm_head")).findFirst().orElseThrow();
    assertTrue(head.contains("Linear 4096 → 128256"), head);
  }

  @Test
  void bundledNameAndTiedHead() {
    Result r = run("inspect", "--model", "llama-3.2-1b");
    assertEquals(0, r.code, r.err);
    String head = r.outLines().stream().filter(l -> l.startsWith("  lm_head")).findFirst().orElseThrow();
    assertTrue(head.contains("tied to embed_tokens"), head);
    assertLine(r, "base parameters: 1,235,814,400");
    // PEFT's defaults: r 8, alpha 8, q_proj and v_proj.
    assertLine(r, "LoRA: r=8, lora_alpha=8, scaling 1, dropout 0, targets q_proj,v_proj");
  }

  @Test
  void peftAdapterMatches() {
    Path tiny = tinyAdapter();
    Result r = run("inspect", "--model", tiny.toString(), "--adapter", tiny.toString());
    assertEquals(0, r.code, r.err);
    assertLine(r, "LoRA: r=4, lora_alpha=8, scaling 2, dropout 0, targets q_proj,v_proj,down_proj");
    assertLine(r, "  adapter_model.safetensors: all 12 expected tensors present, shapes match");
  }

  @Test
  void adapterWithoutWeights() throws IOException {
    Path adapter = Files.createDirectories(dir.resolve("adapter"));
    Files.copy(tinyAdapter().resolve("adapter_config.json"), adapter.resolve("adapter_config.json"));
    Result r = run("inspect", "--model", tinyAdapter().toString(), "--adapter", adapter.toString());
    assertEquals(0, r.code, r.err);
    assertLine(r, "  no adapter_model.safetensors: only the config was read");
  }

  @Test
  void adapterWeightsThatDoNotMatch() throws IOException {
    Path adapter = Files.createDirectories(dir.resolve("adapter"));
    Files.copy(tinyAdapter().resolve("adapter_config.json"), adapter.resolve("adapter_config.json"));
    var w = new SafetensorsWriter();
    try (var peft = SafetensorsFile.open(tinyAdapter().resolve("adapter_model.safetensors"))) {
      for (String name : peft.names()) {
        if (name.contains("layers.0.self_attn.q_proj.lora_A")) {
          continue;
        }
        long[] shape = name.contains("layers.1.mlp.down_proj.lora_B") ? new long[] {64, 8} : peft.info(name).shape();
        w.putFloats(name, new float[(int) (shape[0] * shape[1])], DType.F32, shape);
      }
      w.putFloats("base_model.model.lm_head.lora_A.weight", new float[1], DType.F32, 1, 1);
      w.write(adapter.resolve("adapter_model.safetensors"));
    }
    Result r = run("inspect", "--model", tinyAdapter().toString(), "--adapter", adapter.toString());
    assertEquals(1, r.code, r.out + r.err);
    assertLine(r, "  adapter_model.safetensors does not match the config: 1 missing, 1 unexpected, 1 mis-shaped "
        + "(of 12 expected)");
    assertLine(r, "  missing: base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
    assertLine(r, "  unexpected: base_model.model.lm_head.lora_A.weight");
    assertLine(r, "  mis-shaped: base_model.model.model.layers.1.mlp.down_proj.lora_B.weight: F32 [64, 8], "
        + "expected [64, 4]");
  }

  @Test
  void badInputIsOneLineAndExitCode2() throws IOException {
    assertOneErrorLine(run("inspect", "--model", dir.resolve("nope").toString()), "no such directory or file");
    assertOneErrorLine(run("inspect", "--model", dir.toString()), "holds no config.json");
    Path bad = Files.createDirectories(dir.resolve("bad"));
    Files.writeString(bad.resolve("config.json"), "{\"model_type\": \"llama\", \"hidden_act\": \"gelu\"}");
    assertOneErrorLine(run("inspect", "--model", bad.toString()), "config.json: 'hidden_act': 'gelu' is not supported");
    assertOneErrorLine(run("inspect", "--model", "llama-3.1-8b", "--target", "q_proj,qkv"),
        "unknown target module 'qkv'");
    assertOneErrorLine(run("inspect", "--model", "llama-3.1-8b", "--r", "0"), "r must be > 0: 0");
    assertOneErrorLine(run("inspect", "--model", "llama-3.1-8b", "--adapter", tinyAdapter().toString(), "--r", "4"),
        "give either --adapter or --r/--alpha/--target/--rslora");
    assertOneErrorLine(run("inspect", "--model", "llama-3.1-8b", "--adapter", dir.resolve("none").toString()),
        "no such directory");
    Path broken = Files.createDirectories(dir.resolve("broken"));
    Files.copy(tinyAdapter().resolve("adapter_config.json"), broken.resolve("adapter_config.json"));
    Files.write(broken.resolve("adapter_model.safetensors"), new byte[3]);
    assertOneErrorLine(run("inspect", "--model", tinyAdapter().toString(), "--adapter", broken.toString()),
        "adapter_model.safetensors: file is 3 bytes");
  }

  @Test
  void help() {
    Result r = run("inspect", "--help");
    assertEquals(0, r.code);
    assertTrue(r.out.contains("--model=DIR") && r.out.contains("--adapter=DIR") && r.out.contains("--rslora"), r.out);
    Result top = run("help", "inspect");
    assertEquals(0, top.code);
    assertTrue(top.out.contains("--model=DIR"), top.out);
    assertTrue(run("--help").out.contains("inspect"));
    assertEquals(2, run("inspect").code); // --model is required
  }
}
