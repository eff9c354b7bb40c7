package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetReaderTest {

  @TempDir Path dir;

  private Path write(String name, String content) throws IOException {
    return write(name, content.getBytes(StandardCharsets.UTF_8));
  }

  private Path write(String name, byte[] content) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, content);
    return p;
  }

  @Test
  void readsTheThreeTrlShapes() throws IOException {
    Path file =
        write(
            "mixed.jsonl",
            """
            {"text": "The quick brown fox."}
            {"prompt": "2 + 2 =", "completion": " 4"}
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
            """);
    List<Example> examples = DatasetReader.builder(file).build().read(Split.ALL).examples();
    assertEquals(
        List.of(
            new Example.Text("The quick brown fox.", new Origin(file.toString(), 1)),
            new Example.PromptCompletion("2 + 2 =", " 4", new Origin(file.toString(), 2)),
            new Example.Conversation(List.of(Message.user("Hi"), Message.assistant("Hello!")), new Origin(file.toString(), 3))),
        examples);
  }

  @Test
  void strictErrorsNameFileLineAndField() throws IOException {
    assertError("{\"prompt\": \"p\", \"completion\": \"\"}", ":1: field 'completion': must not be empty");
    assertError("{\"prompt\": \"p\"}", ":1: field 'completion': missing");
    assertError("{\"prompt\": \"p\", \"completion\": 4}", ":1: field 'completion': must be a string, not a number");
    assertError("{\"text\": \"a\"", ":1: malformed JSON (End of input at column 13)");
    assertError("{text: \"a\"}", ":1: malformed JSON");
    assertError("[1, 2]", ":1: not a JSON object");
    assertError("{\"title\": \"a\"}", ":1: field 'text': missing");
    assertError("{\"messages\": [{\"role\": \"user\"}]}", ":1: field 'messages[0].content': missing");
    assertError("{\"messages\": []}", ":1: field 'messages': must not be empty");
    assertError("{\"messages\": \"hi\"}", ":1: field 'messages': must be a list");
  }

  private void assertError(String line, String expected) throws IOException {
    Path file = write("bad.jsonl", line + "\n");
    var e = assertThrows(InvalidRecordException.class, () -> DatasetReader.builder(file).build().read(Split.ALL));
    assertTrue(e.getMessage().startsWith(file + expected), "message was: " + e.getMessage() + ", expected " + file + expected);
  }

  @Test
  void nonUtf8ByteIsAnErrorOnItsLine() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes("{\"text\": \"ok\"}\n".getBytes(StandardCharsets.UTF_8));
    b.writeBytes("{\"text\": \"caf".getBytes(StandardCharsets.UTF_8));
    b.write(0xE9); // Latin-1 e-acute, not UTF-8
    b.writeBytes("\"}\n".getBytes(StandardCharsets.UTF_8));
    Path file = write("latin1.jsonl", b.toByteArray());
    var e = assertThrows(InvalidRecordException.class, () -> DatasetReader.builder(file).build().read(Split.ALL));
    assertEquals(new Origin(file.toString(), 2), e.origin());
    assertTrue(e.getMessage().contains("not valid UTF-8 (byte 0xE9 at byte 14 of the line)"), e.getMessage());
  }

  @Test
  void skipInvalidCountsEveryReason() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(
        """
        {"prompt": "a", "completion": "b"}
        {"prompt": "a", "completion": ""}
        not json

        {"prompt": "a"}
        {"prompt": "c", "completion": "d"}
        {"prompt": "a", "completion": ""}
        """
            .getBytes(StandardCharsets.UTF_8));
    b.write(0xFF);
    b.write('\n');
    Path file = write("dirty.jsonl", b.toByteArray());
    DatasetReader reader = DatasetReader.builder(file).skipInvalid().build();
    DatasetReader.ReadResult result = reader.read(Split.ALL);
    assertEquals(2, result.examples().size());
    ReadReport report = result.report();
    assertEquals(7, report.records());
    assertEquals(2, report.examples());
    assertEquals(5, report.skippedRecords());
    Map<String, Long> skipped = report.skipped();
    assertEquals(2L, skipped.get("'completion' must not be empty"));
    assertEquals(1L, skipped.get("'completion' missing"));
    assertEquals(1L, skipped.get("blank line"));
    assertEquals(1L, skipped.get("malformed JSON"));
    assertEquals(1L, skipped.get("not valid UTF-8"));
    assertEquals(5, skipped.size(), skipped.toString());
    assertEquals(report, reader.lastReport());
  }

  @Test
  void blankLinesAreCountedButNotErrors() throws IOException {
    Path file = write("blank.jsonl", "{\"text\": \"a\"}\r\n\r\n{\"text\": \"b\"}");
    ReadReport report = DatasetReader.builder(file).build().read(Split.ALL).report();
    assertEquals(2, report.examples());
    assertEquals(Map.of("blank line", 1L), report.skipped());
  }

  @Test
  void splitIsDeterministicDisjointAndComplete() throws IOException {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      s.append("{\"text\": \"row ").append(i).append("\"}\n");
    }
    Path file = write("split.jsonl", s.toString());
    DatasetReader reader = DatasetReader.builder(file).validationFraction(0.1).seed(7).build();
    List<Example> train = reader.read(Split.TRAIN).examples();
    List<Example> validation = reader.read(Split.VALIDATION).examples();
    assertEquals(2000, train.size() + validation.size());
    Set<Example> all = new HashSet<>(train);
    all.addAll(validation);
    assertEquals(2000, all.size());
    assertTrue(validation.size() > 150 && validation.size() < 250, "validation size " + validation.size());
    assertEquals(validation, DatasetReader.builder(file).validationFraction(0.1).seed(7).build().read(Split.VALIDATION).examples());
    assertFalse(validation.equals(DatasetReader.builder(file).validationFraction(0.1).seed(8).build().read(Split.VALIDATION).examples()));
  }

  @Test
  void readsGzip() throws IOException {
    Path file = dir.resolve("t.jsonl.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write("{\"text\": \"zipped\"}\n".getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(List.of(new Example.Text("zipped", new Origin(file.toString(), 1))), DatasetReader.builder(file).build().read(Split.ALL).examples());
  }

  @Test
  void streamsLazily() throws IOException {
    Path file = write("lazy.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\nbroken\n");
    List<Example> firstTwo = new ArrayList<>();
    try (var s = DatasetReader.builder(file).build().examples(Split.ALL)) {
      s.limit(2).forEach(firstTwo::add);
    }
    assertEquals(2, firstTwo.size());
  }

  @Test
  void readsCsvWithQuotesNewlinesAndMessages() throws IOException {
    Path file =
        write(
            "data.csv",
            "prompt,completion\n"
                + "\"Hello, world\",\" said \"\"Bob\"\"\"\n"
                + "\"two\nlines\",x\n");
    List<Example> examples = DatasetReader.builder(file).build().read(Split.ALL).examples();
    assertEquals(
        List.of(
            new Example.PromptCompletion("Hello, world", " said \"Bob\"", new Origin(file.toString(), 2)),
            new Example.PromptCompletion("two\nlines", "x", new Origin(file.toString(), 3))),
        examples);

    Path chat = write("chat.csv", "messages\n\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"Hi\"\"}]\"\n");
    assertEquals(
        List.of(new Example.Conversation(List.of(Message.user("Hi")), new Origin(chat.toString(), 2))),
        DatasetReader.builder(chat).build().read(Split.ALL).examples());
  }

  @Test
  void csvErrorsNameTheLine() throws IOException {
    Path file = write("bad.csv", "prompt,completion\na,b\nc\n\"open,d\n");
    var e = assertThrows(InvalidRecordException.class, () -> DatasetReader.builder(file).build().read(Split.ALL));
    assertTrue(e.getMessage().startsWith(file + ":3: has 1 fields, the header has 2"), e.getMessage());
    ReadReport report = DatasetReader.builder(file).skipInvalid().build().read(Split.ALL).report();
    assertEquals(3, report.records());
    assertEquals(1, report.examples());
    assertEquals(Map.of("has 1 fields, the header has 2", 1L, "a quoted field is never closed", 1L), report.skipped());
  }

  @Test
  void readsADirectoryOfShardsInNameOrder() throws IOException {
    Path shards = Files.createDirectory(dir.resolve("shards"));
    StringBuilder a = new StringBuilder();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 300; i++) {
      a.append("{\"text\": \"a").append(i).append("\"}\n");
      b.append("{\"text\": \"b").append(i).append("\"}\n");
    }
    Files.writeString(shards.resolve("train-00001.jsonl"), b);
    Files.writeString(shards.resolve("train-00000.jsonl"), a);
    Files.writeString(shards.resolve("README.md"), "# not data");
    DatasetReader reader = DatasetReader.builder(shards).validationFraction(0.2).build();
    assertEquals(List.of(shards.resolve("train-00000.jsonl"), shards.resolve("train-00001.jsonl")), reader.files());
    List<Example> all = reader.read(Split.ALL).examples();
    assertEquals(600, all.size());
    assertEquals(new Example.Text("a0", new Origin(shards.resolve("train-00000.jsonl").toString(), 1)), all.getFirst());
    assertEquals(new Example.Text("b0", new Origin(shards.resolve("train-00001.jsonl").toString(), 1)), all.get(300));

    // Shards do not share a split pattern, and adding a shard leaves the others' split alone.
    List<Example> validation = reader.read(Split.VALIDATION).examples();
    List<Long> linesA = validation.stream().filter(e -> ((Example.Text) e).text().startsWith("a")).map(e -> e.origin().line()).toList();
    List<Long> linesB = validation.stream().filter(e -> ((Example.Text) e).text().startsWith("b")).map(e -> e.origin().line()).toList();
    assertFalse(linesA.equals(linesB));
    Files.writeString(shards.resolve("train-00002.jsonl"), a);
    List<Example> again = DatasetReader.builder(shards).validationFraction(0.2).build().read(Split.VALIDATION).examples();
    assertEquals(validation, again.subList(0, validation.size()));

    Path empty = Files.createDirectory(dir.resolve("empty"));
    var e = assertThrows(IllegalArgumentException.class, () -> DatasetReader.builder(empty).build());
    assertTrue(e.getMessage().startsWith("no .jsonl, .csv or .parquet file in " + empty), e.getMessage());
  }

  @Test
  void unknownExtensionFailsAtBuild() {
    var e = assertThrows(IllegalArgumentException.class, () -> DatasetReader.builder(Path.of("x.txt")).build());
    assertTrue(e.getMessage().contains("x.txt"));
    assertInstanceOf(IllegalArgumentException.class, assertThrows(IllegalArgumentException.class, () -> DatasetReader.builder(Path.of("x.jsonl")).validationFraction(1.0)));
  }
}
