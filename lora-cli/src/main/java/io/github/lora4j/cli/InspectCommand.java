package io.github.lora4j.cli;

import io.github.lora4j.core.lora.LoraConfig;
import io.github.lora4j.core.lora.LoraLayout;
import io.github.lora4j.core.lora.TargetModule;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.core.model.ModelType;
import io.github.lora4j.core.model.RopeScaling;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lora4j inspect}: a model's module tree from its config.json, where LoRA adapters go and
 * how many parameters they train; with {@code --adapter}, a PEFT adapter's config and a check of
 * its weight file. Reads no model weights.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
        "Show a model's modules, the LoRA adapters a config puts on them, and the parameter counts.",
        "Reads only config.json (no weights). With --adapter, reads a PEFT adapter's adapter_config.json and "
            + "checks the keys and shapes in its adapter_model.safetensors."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:the model (and adapter) read fine",
        "1:the adapter's weights do not match its config",
        "2:bad input: missing directory, missing or invalid config"})
public final class InspectCommand implements Callable<Integer> {

  /** Created by picocli. */
  public InspectCommand() {}

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "Model directory holding config.json, the config.json itself, or a bundled config: "
          + "llama-3.1-8b, llama-3.2-1b.")
  String model;

  @Option(names = "--adapter", paramLabel = "DIR",
      description = "PEFT adapter directory (adapter_config.json, optionally adapter_model.safetensors).")
  Path adapter;

  @Option(names = "--r", paramLabel = "R", description = "LoRA rank (default: PEFT's, 8).")
  Integer r;

  @Option(names = "--alpha", paramLabel = "ALPHA", description = "LoRA alpha (default: PEFT's, 8).")
  Double alpha;

  @Option(names = "--target", paramLabel = "MODULES", split = ",",
      description = "Adapted projections: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj or all-linear "
          + "(default: PEFT's for Llama, q_proj,v_proj).")
  List<String> targets;

  @Option(names = "--rslora", description = "Rank-stabilized scaling, alpha / sqrt(r).")
  boolean rslora;

  /** A problem with the input: printed as one line on stderr, exit code 2. */
  private static final class BadInput extends Exception {
    BadInput(String message) {
      super(message);
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try {
      ModelConfig config = loadModel();
      LoraConfig lora = loraConfig();
      LoraLayout layout;
      try {
        layout = new LoraLayout(config, lora);
      } catch (IllegalArgumentException e) {
        throw new BadInput(e.getMessage());
      }
      printModel(out, config, layout);
      printLora(out, config, layout);
      int status = adapter == null ? 0 : checkAdapterWeights(out, layout);
      out.flush();
      return status;
    } catch (BadInput | IOException e) {
      out.flush();
      spec.commandLine().getErr().println("lora4j inspect: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 2;
    }
  }

  private ModelConfig loadModel() throws IOException, BadInput {
    Path path = Path.of(model);
    if (!Files.exists(path) && ModelConfig.BUNDLED.contains(model)) {
      return ModelConfig.bundled(model);
    }
    if (!Files.exists(path)) {
      throw new BadInput("--model " + model + ": no such directory or file (bundled configs: "
          + String.join(", ", ModelConfig.BUNDLED) + ")");
    }
    return ModelConfig.load(path);
  }

  private LoraConfig loraConfig() throws IOException, BadInput {
    if (adapter != null) {
      if (r != null || alpha != null || targets != null || rslora) {
        throw new BadInput("give either --adapter or --r/--alpha/--target/--rslora: the adapter's config sets them");
      }
      if (!Files.isDirectory(adapter)) {
        throw new BadInput("--adapter " + adapter + ": no such directory");
      }
      return LoraConfig.readPeftConfig(adapter);
    }
    try {
      LoraConfig.Builder b = LoraConfig.builder().useRslora(rslora);
      if (r != null) {
        b.r(r);
      }
      if (alpha != null) {
        b.loraAlpha(alpha);
      }
      if (targets != null) {
        b.targetModules(targets.toArray(String[]::new));
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new BadInput(e.getMessage());
    }
  }

  private void printModel(PrintWriter out, ModelConfig c, LoraLayout layout) {
    out.printf(Locale.ROOT, "model: %s%n", model);
    out.printf(Locale.ROOT, "  %s, %s, %d layers, hidden %d, %d heads (%d key/value), head_dim %d, vocab %d%n",
        c.modelType().hfName(), torchName(c.torchDtype()), c.numHiddenLayers(), c.hiddenSize(),
        c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.vocabSize());
    out.printf(Locale.ROOT, "  rope: %s, max_position_embeddings %d%n", describe(c.ropeTheta(), c.ropeScaling()),
        c.maxPositionEmbeddings());
    out.println();

    var lora = layout.lora();
    int layers = c.numHiddenLayers();
    out.println(architecture(c.modelType()));
    row(out, "  model.embed_tokens", "Embedding [" + c.vocabSize() + ", " + c.hiddenSize() + "]");
    List<Integer> adapted = layout.adaptedLayers();
    String loraLayers = adapted.size() == layers ? "" : "; LoRA on layers " + ranges(adapted);
    row(out, "  model.layers.0-" + (layers - 1), "decoder layer × " + layers + " (each as below" + loraLayers + ")");
    row(out, "    input_layernorm", "RMSNorm [" + c.hiddenSize() + "]");
    for (TargetModule t : TargetModule.values()) {
      if (t == TargetModule.GATE_PROJ) {
        row(out, "    post_attention_layernorm", "RMSNorm [" + c.hiddenSize() + "]");
      }
      String linear = "Linear " + t.inFeatures(c) + " → " + t.outFeatures(c) + (t.hasBias(c) ? " + bias" : "");
      if (lora.targetModules().contains(t)) {
        linear = String.format(Locale.ROOT, "%-28s LoRA A [%d, %d]  B [%d, %d]", linear, lora.r(), t.inFeatures(c),
            t.outFeatures(c), lora.r());
      }
      row(out, "    " + t.parent() + "." + t.peftName(), linear);
    }
    row(out, "  model.norm", "RMSNorm [" + c.hiddenSize() + "]");
    row(out, "  lm_head", c.tieWordEmbeddings() ? "tied to embed_tokens"
        : "Linear " + c.hiddenSize() + " → " + c.vocabSize());
    out.println();
  }

  private void printLora(PrintWriter out, ModelConfig c, LoraLayout layout) {
    LoraConfig lora = layout.lora();
    out.printf(Locale.ROOT, "LoRA: r=%d, lora_alpha=%s, scaling %s%s, dropout %s, targets %s%n", lora.r(),
        number(lora.loraAlpha()), number(lora.scaling()), lora.useRslora() ? " (rsLoRA)" : "",
        number(lora.loraDropout()), lora.targetModules().stream().map(TargetModule::peftName)
            .collect(Collectors.joining(",")));
    out.printf(Locale.ROOT, "  %d adapted modules in %d of %d layers%n", layout.modules().size(),
        layout.adaptedLayers().size(), c.numHiddenLayers());
    long base = c.parameterCount();
    long trainable = layout.trainableParameterCount();
    out.printf(Locale.ROOT, "base parameters: %,d%n", base);
    out.printf(Locale.ROOT, "trainable parameters: %,d (%.2f MB in fp32)%n", trainable,
        layout.trainableBytes(DType.F32) / 1e6);
    out.printf(Locale.ROOT, "trainable share: %.4f%% of %,d%n", 100.0 * trainable / (base + trainable),
        base + trainable);
  }

  /** Prints the check of adapter_model.safetensors; 1 when it does not match, else 0. */
  private int checkAdapterWeights(PrintWriter out, LoraLayout layout) throws IOException {
    Path weights = adapter.resolve(LoraConfig.ADAPTER_WEIGHTS_FILE);
    out.println();
    out.printf(Locale.ROOT, "adapter: %s%n", adapter);
    if (!Files.isRegularFile(weights)) {
      out.printf(Locale.ROOT, "  no %s: only the config was read%n", LoraConfig.ADAPTER_WEIGHTS_FILE);
      return 0;
    }
    try (var file = SafetensorsFile.open(weights)) {
      LoraLayout.AdapterCheck check = layout.check(file);
      int expected = layout.adapterTensors().size();
      if (check.ok()) {
        out.printf(Locale.ROOT, "  %s: all %d expected tensors present, shapes match%n",
            LoraConfig.ADAPTER_WEIGHTS_FILE, expected);
        return 0;
      }
      out.printf(Locale.ROOT, "  %s does not match the config: %d missing, %d unexpected, %d mis-shaped "
          + "(of %d expected)%n", LoraConfig.ADAPTER_WEIGHTS_FILE, check.missing().size(), check.unexpected().size(),
          check.mismatched().size(), expected);
      check.missing().forEach(k -> out.println("  missing: " + k));
      check.unexpected().forEach(k -> out.println("  unexpected: " + k));
      check.mismatched().forEach(k -> out.println("  mis-shaped: " + k));
      return 1;
    }
  }

  private static void row(PrintWriter out, String name, String what) {
    out.printf(Locale.ROOT, "%-34s %s%n", name, what);
  }

  private static String architecture(ModelType type) {
    return switch (type) {
      case LLAMA -> "LlamaForCausalLM";
      case MISTRAL -> "MistralForCausalLM";
      case QWEN2 -> "Qwen2ForCausalLM";
    };
  }

  /** The dtype as config.json names it. */
  private static String torchName(DType dtype) {
    return switch (dtype) {
      case F32 -> "float32";
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      default -> dtype.name();
    };
  }

  private static String describe(double theta, RopeScaling scaling) {
    String base = scaling.ropeType() + ", theta " + number(theta);
    return switch (scaling) {
      case RopeScaling.Default d -> base;
      case RopeScaling.Linear l -> base + ", factor " + number(l.factor());
      case RopeScaling.Llama3 l -> base + ", factor " + number(l.factor()) + ", low_freq_factor "
          + number(l.lowFreqFactor()) + ", high_freq_factor " + number(l.highFreqFactor())
          + ", original_max_position_embeddings " + l.originalMaxPositionEmbeddings();
    };
  }

  /** 64.0 as "64", 0.05 as "0.05". */
  private static String number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  /** [0, 1, 2, 5] as "0-2, 5". */
  private static String ranges(List<Integer> sorted) {
    var sb = new StringBuilder();
    for (int i = 0; i < sorted.size(); ) {
      int j = i;
      while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
        j++;
      }
      sb.append(sb.isEmpty() ? "" : ", ").append(sorted.get(i)).append(j > i ? "-" + sorted.get(j) : "");
      i = j + 1;
    }
    return sb.toString();
  }
}
