package io.github.lora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code lora4j loss} on the golden Llama case: the loss and gradients transformers + PEFT computed. */
class LossCommandTest {
  static final Path CASE = Path.of("../lora-core/src/test/resources/golden/llama_gqa");

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    CommandLine cl = Lora4jCommand.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void printsTheLossAndWritesGradientsUnderAdapterKeys(@TempDir Path tmp) throws Exception {
    Path grads = tmp.resolve("grads.safetensors");
    Run r =
        run("loss", "--model", CASE.resolve("model").toString(), "--adapter", CASE.resolve("adapter").toString(), "--batch",
            CASE.resolve("batch.safetensors").toString(), "--grads-out", grads.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().matches("loss=[0-9.]+\\R"), "one line loss=<value>: " + r.out());
    try (SafetensorsFile expected = SafetensorsFile.open(CASE.resolve("expected.safetensors"));
        SafetensorsFile written = SafetensorsFile.open(grads)) {
      double loss = Double.parseDouble(r.out().trim().substring("loss=".length()));
      double want = expected.readFloats("loss")[0];
      assertTrue(Math.abs(loss - want) / want <= 1e-5, "loss " + loss + " vs transformers' " + want);
      assertEquals(28, written.names().size(), "one gradient per LoRA tensor");
      for (String key : written.names()) {
        float[] g = written.readFloats(key);
        float[] e = expected.readFloats("grad." + key);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < g.length; i++) {
          diff += (g[i] - e[i]) * (double) (g[i] - e[i]);
          norm += e[i] * (double) e[i];
        }
        assertTrue(Math.sqrt(diff / norm) <= 1e-4, key + ": relative error " + Math.sqrt(diff / norm));
      }
    }
  }

  @Test
  void badInputsPrintOneLineAndExit2(@TempDir Path tmp) throws Exception {
    String model = CASE.resolve("model").toString();
    String batch = CASE.resolve("batch.safetensors").toString();
    Run missingModel = run("loss", "--model", tmp.resolve("none").toString(), "--batch", batch);
    assertEquals(2, missingModel.exit());
    assertTrue(missingModel.err().contains("none"), missingModel.err());

    Run missingBatch = run("loss", "--model", model, "--batch", tmp.resolve("b.safetensors").toString());
    assertEquals(2, missingBatch.exit());
    assertTrue(missingBatch.err().contains("b.safetensors"), missingBatch.err());

    Path truncated = tmp.resolve("truncated.safetensors");
    Files.write(truncated, new byte[] {1, 2, 3});
    Run bad = run("loss", "--model", model, "--batch", truncated.toString());
    assertEquals(2, bad.exit());
    assertTrue(bad.err().contains("truncated.safetensors"), bad.err());
    assertEquals(1, bad.err().strip().lines().count(), "one line: " + bad.err());

    Run gradsWithoutAdapter = run("loss", "--model", model, "--batch", batch, "--grads-out", tmp.resolve("g").toString());
    assertEquals(2, gradsWithoutAdapter.exit());
    assertTrue(gradsWithoutAdapter.err().contains("--grads-out needs --adapter"), gradsWithoutAdapter.err());
  }

  @Test
  void baseModelLossWithoutAdapterDiffersFromAdapted() {
    Run base = run("loss", "--model", CASE.resolve("model").toString(), "--batch", CASE.resolve("batch.safetensors").toString());
    assertEquals(0, base.exit(), base.err());
    Run adapted =
        run("loss", "--model", CASE.resolve("model").toString(), "--adapter", CASE.resolve("adapter").toString(), "--batch",
            CASE.resolve("batch.safetensors").toString());
    assertTrue(!base.out().equals(adapted.out()), "the adapter changes the loss: " + base.out() + " vs " + adapted.out());
  }
}
