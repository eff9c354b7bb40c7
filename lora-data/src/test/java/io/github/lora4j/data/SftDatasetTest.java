package io.github.lora4j.data;

import static io.github.lora4j.data.TokenBatch.IGNORE_INDEX;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class SftDatasetTest {

  static final int PAD = 3;

  /** An example of {@code length} tokens whose ids say which example and position they are. */
  static TokenizedExample example(int index, int length) {
    int[] ids = new int[length];
    for (int i = 0; i < length; i++) {
      ids[i] = 1000 * (index + 1) + i;
    }
    return new TokenizedExample(ids, ids.clone(), length, new Origin("test", index + 1));
  }

  static List<TokenizedExample> examples(int... lengths) {
    List<TokenizedExample> out = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      out.add(example(i, lengths[i]));
    }
    return out;
  }

  @Test
  void paddedBatchesPadToTheLongestOnTheRight() {
    SftConfig config = SftConfig.builder().maxSequenceLength(8).batchSize(2).shuffle(false).build();
    SftDataset data = SftDataset.of(examples(3, 5, 2), config, PAD);
    assertEquals(2, data.batchesPerEpoch());
    TokenBatch b = data.epoch(0).getFirst();
    assertEquals(2, b.batchSize());
    assertEquals(5, b.sequenceLength());
    assertArrayEquals(new int[] {1000, 1001, 1002, PAD, PAD, 2000, 2001, 2002, 2003, 2004}, b.inputIds());
    assertArrayEquals(new int[] {1000, 1001, 1002, IGNORE_INDEX, IGNORE_INDEX, 2000, 2001, 2002, 2003, 2004}, b.labels());
    assertArrayEquals(new int[] {1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, b.segments());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 0, 1, 2, 3, 4}, b.positions());
    TokenBatch last = data.epoch(0).get(1);
    assertEquals(1, last.batchSize());
    assertEquals(2, last.sequenceLength());
  }

  @Test
  void padToMultipleOf() {
    SftConfig config = SftConfig.builder().maxSequenceLength(16).batchSize(4).padToMultipleOf(8).build();
    assertEquals(8, SftDataset.of(examples(3, 5), config, PAD).epoch(0).getFirst().sequenceLength());
  }

  @Test
  void packedRowsKeepExamplesApart() {
    SftConfig config = SftConfig.builder().maxSequenceLength(8).batchSize(8).packing(true).shuffle(false).build();
    SftDataset data = SftDataset.of(examples(5, 3, 4, 2), config, PAD);
    // Best-fit decreasing: 5 opens row 0, 4 opens row 1, 3 fits row 0 exactly, 2 goes into row 1.
    assertEquals(2, data.rows());
    TokenBatch b = data.epoch(0).getFirst();
    assertEquals(8, b.sequenceLength());
    assertArrayEquals(new int[] {1000, 1001, 1002, 1003, 1004, 2000, 2001, 2002, 3000, 3001, 3002, 3003, 4000, 4001, PAD, PAD}, b.inputIds());
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 0, 0}, b.segments());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 0, 1, 2, 0, 1, 2, 3, 0, 1, 0, 0}, b.positions());
    // No example's last token is trained to predict the next example's first.
    int[] targets = b.shiftedTargets();
    assertEquals(IGNORE_INDEX, targets[4]);
    assertEquals(IGNORE_INDEX, targets[8 + 3]);
    assertEquals(IGNORE_INDEX, b.labels()[5]);
    assertEquals(1001, targets[0]);
  }

  @Test
  void shuffleDependsOnlyOnSeedAndEpoch() {
    List<TokenizedExample> list = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      list.add(example(i, 1 + i % 7));
    }
    SftConfig config = SftConfig.builder().maxSequenceLength(8).batchSize(4).seed(1234).build();
    SftDataset a = SftDataset.of(list, config, PAD);
    SftDataset b = SftDataset.of(list, config, PAD);
    assertArrayEquals(a.order(3), b.order(3));
    assertNotEquals(Arrays.toString(a.order(0)), Arrays.toString(a.order(1)));
    assertNotEquals(Arrays.toString(a.order(0)), Arrays.toString(SftDataset.of(list, SftConfig.builder().maxSequenceLength(8).seed(99).build(), PAD).order(0)));
    // A resumed run asks for one batch; it is the same batch the full epoch has there.
    List<TokenBatch> epoch = a.epoch(2);
    for (int i = 0; i < epoch.size(); i++) {
      assertArrayEquals(epoch.get(i).inputIds(), b.batch(2, i).inputIds());
    }
    // Pinned so that a change of the shuffle (which would change resumed runs) is noticed.
    assertArrayEquals(new int[] {46, 26, 6, 20, 15, 21, 27, 10, 24, 37}, Arrays.copyOf(a.order(0), 10));
  }

  @Property(tries = 200)
  void packingKeepsEveryTokenOnceAndWithinTheRow(
      @ForAll @Size(min = 1, max = 40) List<@IntRange(min = 1, max = 16) Integer> lengths, @ForAll @IntRange(min = 16, max = 40) int rowLength) {
    List<TokenizedExample> list = examples(lengths.stream().mapToInt(Integer::intValue).toArray());
    SftConfig config = SftConfig.builder().maxSequenceLength(rowLength).batchSize(3).packing(true).seed(lengths.size()).build();
    SftDataset data = SftDataset.of(list, config, PAD);
    Map<Integer, Integer> seen = new HashMap<>();
    int total = lengths.stream().mapToInt(Integer::intValue).sum();
    // Best-fit decreasing never needs more than twice the ideal number of rows, plus one.
    assertTrue(data.rows() <= 2 * ((total + rowLength - 1) / rowLength) + 1, "rows " + data.rows());
    for (TokenBatch b : data.epoch(1)) {
      assertTrue(b.sequenceLength() <= rowLength);
      for (int i = 0; i < b.tokenCount(); i++) {
        if (b.segments()[i] == 0) {
          assertEquals(PAD, b.inputIds()[i]);
          continue;
        }
        int id = b.inputIds()[i];
        assertEquals(id % 1000, b.positions()[i], "a token's position is its place in its own example");
        seen.merge(id, 1, Integer::sum);
      }
    }
    assertEquals(total, seen.size());
    assertTrue(seen.values().stream().allMatch(c -> c == 1));
  }

  @Test
  void statisticsCountTruncationAndSkips() {
    CharTokenizer tokenizer = new CharTokenizer();
    SftConfig config = SftConfig.builder().maxSequenceLength(6).invalidRecords(InvalidRecordPolicy.SKIP_INVALID).build();
    List<Example> examples =
        List.of(
            new Example.PromptCompletion("ab", "c"), // 5 tokens: <s> a b c </s>
            new Example.PromptCompletion("abc", "defg"), // 9 tokens, cut to 6, 3 cut
            new Example.PromptCompletion("abcdefgh", "i"), // nothing of the completion survives
            new Example.Text("xyz")); // 5 tokens
    SftDataset data = SftDataset.encode(examples, tokenizer, config);
    DatasetStatistics s = data.statistics();
    assertEquals(3, s.examples());
    assertEquals(1, s.skipped());
    assertEquals(Map.of("no token of the completion is left after truncation", 1L), s.skippedByReason());
    assertEquals(5 + 6 + 5, s.tokens());
    assertEquals(2 + 2 + 4, s.lossTokens());
    assertEquals(1, s.truncated());
    assertEquals(3, s.truncatedTokens());
    assertEquals(9, s.maxLength());
    assertEquals(3, s.lengths().total());
    String text = s.render();
    assertTrue(text.contains("truncated         1 examples to 6 tokens, 3 tokens cut"), text);
    assertTrue(text.contains("    9 |####################                     1  truncated"), text);

    SftConfig strict = SftConfig.builder().maxSequenceLength(6).build();
    assertThrows(InvalidRecordException.class, () -> SftDataset.encode(examples, tokenizer, strict));
  }

  @Test
  void readSkipsCarryIntoTheStatistics() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("sft", ".jsonl");
    try {
      java.nio.file.Files.writeString(file, "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"a\", \"completion\": \"\"}\n");
      var read = DatasetReader.builder(file).skipInvalid().build().read(Split.ALL);
      DatasetStatistics s = SftDataset.encode(read, new CharTokenizer(), SftConfig.builder().build()).statistics();
      assertEquals(1, s.examples());
      assertEquals(1, s.skipped());
      assertEquals(Map.of("'completion' must not be empty", 1L), s.skippedByReason());
    } finally {
      java.nio.file.Files.delete(file);
    }
  }

  @Test
  void histogramBinsAndRenders() {
    LengthHistogram h = LengthHistogram.of(new int[] {13, 22, 27, 28, 41, 55}, 10, 40);
    assertEquals(5, h.binWidth());
    assertEquals(10, h.start());
    assertArrayEquals(new long[] {1, 0, 1, 2, 0, 0, 1, 0, 0, 1}, h.counts());
    assertEquals(2, h.aboveCutoff());
    String text = h.render(10);
    assertTrue(text.contains("25-29 |##########"), text);
    assertTrue(text.contains("40-44 |#####      1  (1 truncated)"), text);
    assertTrue(text.contains("55-59 |#####      1  truncated"), text);
    assertEquals(1, LengthHistogram.of(new int[] {0, 1, 2}, 20, 0).binWidth());
    assertEquals(0, LengthHistogram.of(new int[0], 20, 0).total());
  }

  @Test
  void configNamesTheBadField() {
    var e = assertThrows(IllegalArgumentException.class, () -> SftConfig.builder().maxSequenceLength(0));
    assertEquals("maxSequenceLength must be positive: 0", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SftDataset.of(examples(9), SftConfig.builder().maxSequenceLength(8).build(), PAD));
  }
}
