package io.github.lora4j.cli;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import io.github.lora4j.tensor.safetensors.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lora4j loss}: the token-mean cross-entropy of a model (with an optional PEFT adapter) on
 * one batch, as transformers computes it with {@code labels}, and optionally the LoRA gradients.
 */
@Command(
    name = "loss",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the token-mean cross-entropy of a batch as loss=<value>, with labels shifted as transformers does.",
      "The batch file holds int32 input_ids and labels [batch, seq] (-100 = no loss) and optionally attention_mask."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the loss was printed", "1:a file could not be written", "2:bad input (one line on stderr)"})
public final class LossCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json + safetensors)")
  Path model;

  @Option(names = "--adapter", description = "PEFT adapter directory (adapter_config.json + adapter_model.safetensors)")
  Path adapter;

  @Option(names = "--batch", required = true, description = "safetensors file with int32 input_ids and labels [batch, seq]")
  Path batch;

  @Option(names = "--grads-out", description = "write the LoRA gradients of the token-mean loss here, under the adapter file's keys")
  Path gradsOut;

  @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda, cuda:N or auto (default: ${DEFAULT-VALUE})")
  String device;

  @Option(names = "--dtype", defaultValue = "f32", description = "compute dtype of the frozen weights: f32, bf16 or f16 (GPU only for the last two; default: ${DEFAULT-VALUE})")
  String dtype;

  @Override
  public Integer call() throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    if (gradsOut != null && adapter == null) {
      return bad(err, "--grads-out needs --adapter: only LoRA weights get gradients");
    }
    TokenBatch tokens;
    try {
      tokens = readBatch(batch);
    } catch (IOException | IllegalArgumentException e) {
      return bad(err, e.getMessage());
    }
    int counted = tokens.countedTargets();
    if (counted == 0) {
      return bad(err, batch + ": no label carries loss after the shift (all are -100)");
    }
    DType computeType = DType.fromSafetensors(dtype.toUpperCase(Locale.ROOT));
    try (Backend backend = Backends.open(Device.parse(device));
        LlamaModel m = LlamaModel.load(model, backend, computeType);
        LoraAdapter lora = adapter == null ? null : PeftAdapters.load(adapter, m.config(), backend)) {
      double loss;
      if (lora == null) {
        try (Tensor logits = m.logits(tokens, null);
            Tensor targets = backend.fromInts(tokens.shiftedTargets(), io.github.lora4j.tensor.Shape.of(tokens.tokenCount()));
            Tensor sum = backend.crossEntropySum(logits, targets, TokenBatch.IGNORE_INDEX)) {
          loss = backend.toFloats(sum)[0] / (double) counted;
        }
      } else {
        try (Tensor sum = m.forwardBackward(tokens, lora, 1f / counted, -1)) {
          loss = backend.toFloats(sum)[0] / (double) counted;
        }
        if (gradsOut != null) {
          PeftAdapters.saveGradients(lora, gradsOut);
        }
      }
      spec.commandLine().getOut().println("loss=" + (float) loss);
      return 0;
    } catch (IOException | UncheckedIOException e) {
      if (gradsOut != null && e.getMessage() != null && e.getMessage().contains(gradsOut.toString())) {
        throw e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
      }
      return bad(err, e.getMessage());
    }
  }

  /** Reads input_ids, labels and the optional attention_mask, checking that their shapes agree. */
  static TokenBatch readBatch(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + ": no such batch file");
    }
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String key : new String[] {"input_ids", "labels"}) {
        if (!f.contains(key)) {
          throw new IllegalArgumentException(file + ": missing tensor '" + key + "' (int32 [batch, seq]); it has " + f.names());
        }
      }
      TensorInfo ids = f.info("input_ids");
      if (ids.rank() != 2) {
        throw new IllegalArgumentException(file + ": input_ids must be [batch, seq], not " + Arrays.toString(ids.shape()));
      }
      for (String key : new String[] {"labels", "attention_mask"}) {
        if (f.contains(key) && !Arrays.equals(f.info(key).shape(), ids.shape())) {
          throw new IllegalArgumentException(
              file + ": " + key + " has shape " + Arrays.toString(f.info(key).shape()) + " but input_ids has " + Arrays.toString(ids.shape()));
        }
      }
      int[] mask = f.contains("attention_mask") ? f.readInts("attention_mask") : null;
      return TokenBatch.padded((int) ids.dim(0), (int) ids.dim(1), f.readInts("input_ids"), f.readInts("labels"), mask);
    }
  }

  private static int bad(PrintWriter err, String message) {
    err.println("lora4j loss: " + message);
    err.flush();
    return 2;
  }
}
