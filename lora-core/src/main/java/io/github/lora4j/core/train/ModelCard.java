package io.github.lora4j.core.train;

import io.github.lora4j.core.TrainerConfig;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The {@code README.md} pushed with an adapter: a model card with the metadata the Hub reads
 * ({@code library_name: peft} and tags, in YAML front matter), how far training got, the settings
 * that shaped the adapter, and how to load it with PEFT. transformers pushes a draft card the same
 * way.
 */
final class ModelCard {

  private ModelCard() {}

  /**
   * The card of {@code repoId} after {@code step} of {@code totalSteps} steps.
   *
   * @param lastLoss the last logged training loss; NaN before the first log
   * @param state the trainer state, for the best validation loss
   */
  static String render(String repoId, TrainerConfig c, String runName, long step, long totalSteps, double lastLoss, TrainerState state) {
    var b = new StringBuilder();
    b.append("---\nlibrary_name: peft\ntags:\n- lora\n- lora4j\n---\n\n");
    b.append("# ").append(repoId.substring(repoId.indexOf('/') + 1)).append("\n\n");
    b.append("A LoRA adapter of `").append(c.baseModel().getFileName()).append("`, trained with lora4j (run `").append(runName).append("`).\n\n");
    b.append("## Training\n\n");
    b.append("- steps: ").append(step).append(" of ").append(totalSteps).append(step < totalSteps ? " (training in progress)" : "").append('\n');
    if (!Double.isNaN(lastLoss)) {
      b.append(String.format(Locale.ROOT, "- training loss: %.4f%n", lastLoss));
    }
    if (state.bestMetric() != null) {
      b.append(String.format(Locale.ROOT, "- best validation loss: %.4f at step %d%n", state.bestMetric(), state.bestGlobalStep()));
    }
    String targets = c.targetModules().stream().map(t -> t.peftName()).sorted().collect(Collectors.joining(", "));
    b.append(String.format(Locale.ROOT, "- LoRA: r=%d, alpha=%s, dropout=%s, target modules %s%s%n", c.loraR(), number(c.loraAlpha()), number(c.loraDropout()),
        targets, c.useRsLora() ? ", rsLoRA" : ""));
    b.append(String.format(Locale.ROOT, "- optimizer %s, learning rate %s (%s schedule), batch size %d x %d accumulation, max sequence length %d, seed %d%n",
        c.optimizer(), number(c.learningRate()), c.schedule(), c.batchSize(), c.gradientAccumulationSteps(), c.maxSequenceLength(), c.seed()));
    b.append("\n## Use\n\n```python\nfrom peft import PeftModel\n\nmodel = PeftModel.from_pretrained(base_model, \"").append(repoId).append("\")\n```\n");
    return b.toString();
  }

  private static String number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
