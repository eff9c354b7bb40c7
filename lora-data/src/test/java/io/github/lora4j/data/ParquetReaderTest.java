package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Parquet fixtures come from tools/fixtures/parquet_fixtures.mjs (hyparquet-writer). */
class ParquetReaderTest {

  @TempDir Path dir;

  static Path fixture(String name) {
    try {
      return Path.of(ParquetReaderTest.class.getResource("/parquet/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void readsSnappyPromptCompletionAndNamesTheBadRows() throws IOException {
    Path file = fixture("prompt_completion.parquet");
    try (var reader = dev.hardwood.reader.ParquetFileReader.open(dev.hardwood.InputFile.of(file))) {
      var codec = reader.getFileMetaData().rowGroups().getFirst().columns().getFirst().metaData().codec();
      assertEquals(dev.hardwood.metadata.CompressionCodec.SNAPPY, codec, "the fixture exercises the Snappy codec");
    }
    var e = assertThrows(InvalidRecordException.class, () -> DatasetReader.builder(file).build().read(Split.ALL));
    assertEquals(new Origin(file.toString(), 3), e.origin());
    assertEquals("completion", e.field());
    assertEquals("must not be empty", e.reason());

    DatasetReader.ReadResult r = DatasetReader.builder(file).skipInvalid().build().read(Split.ALL);
    assertEquals(
        List.of(
            new Example.PromptCompletion("2 + 2 =", " 4", new Origin(file.toString(), 1)),
            new Example.PromptCompletion("The capital of France is", " Paris", new Origin(file.toString(), 2)),
            new Example.PromptCompletion("Café", " crème brûlée", new Origin(file.toString(), 5))),
        r.examples());
    assertEquals(Map.of("'completion' must not be empty", 1L, "'completion' missing", 1L), r.report().skipped());
  }

  @Test
  void readsHuggingFaceMessagesLists() {
    Path file = fixture("messages.parquet");
    List<Example> examples = DatasetReader.builder(file).build().read(Split.ALL).examples();
    assertEquals(
        List.of(
            new Example.Conversation(List.of(Message.user("Hi"), Message.assistant("Hello!")), new Origin(file.toString(), 1)),
            new Example.Conversation(List.of(Message.system("Be brief."), Message.user("2 + 2?"), Message.assistant("4")), new Origin(file.toString(), 2))),
        examples);
  }

  @Test
  void rowNumbersCarryAcrossRowGroupsAndSplitsAreStable() {
    Path file = fixture("text_row_groups.parquet");
    List<Example> all = DatasetReader.builder(file).build().read(Split.ALL).examples();
    assertEquals(10, all.size());
    for (int i = 0; i < 10; i++) {
      assertEquals(new Example.Text("row " + (i + 1), new Origin(file.toString(), i + 1)), all.get(i));
    }
    DatasetReader split = DatasetReader.builder(file).validationFraction(0.3).seed(1).build();
    int train = split.read(Split.TRAIN).examples().size();
    int validation = split.read(Split.VALIDATION).examples().size();
    assertEquals(10, train + validation);
  }

  @Test
  void readsWhatHuggingFaceDatasetsWrites() {
    // Written by datasets' to_parquet and by pyarrow (tools/fixtures/hf_parquet.py); the extra
    // "source" and "score" columns, some null, are ignored.
    for (String name : List.of("hf_datasets_chat.parquet", "hf_datasets_chat_snappy.parquet")) {
      Path file = fixture(name);
      List<Example> examples = DatasetReader.builder(file).build().read(Split.ALL).examples();
      assertEquals(3, examples.size(), name);
      assertEquals(
          new Example.Conversation(List.of(Message.user("\u00dcn\u00efc\u00f6d\u00e9 \u2713"), Message.assistant("\uD83D\uDC4D")), new Origin(file.toString(), 3)),
          examples.get(2),
          name);
    }
  }

  @Test
  void aCodecWithoutItsLibraryIsALoudError() {
    // lora4j ships Snappy only; ZSTD needs com.github.luben:zstd-jni on the class path.
    Path file = fixture("hf_datasets_chat_zstd.parquet");
    var e = assertThrows(UncheckedIOException.class, () -> DatasetReader.builder(file).build().read(Split.ALL));
    assertTrue(e.getMessage().contains(file + ": cannot read"), e.getMessage());
    assertTrue(e.getMessage().contains("zstd-jni"), e.getMessage());
  }

  @Test
  void notParquetIsAnIoErrorNamingTheFile() throws IOException {
    Path bogus = dir.resolve("bogus.parquet");
    Files.writeString(bogus, "this is not parquet");
    var e = assertThrows(UncheckedIOException.class, () -> DatasetReader.builder(bogus).build().read(Split.ALL));
    assertTrue(e.getMessage().contains("bogus.parquet"), e.getMessage());
  }
}
