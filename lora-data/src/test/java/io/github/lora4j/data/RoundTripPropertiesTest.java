package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.NotEmpty;
import net.jqwik.api.constraints.Size;

/** Whatever strings a dataset holds, reading gives them back unchanged. */
class RoundTripPropertiesTest {

  @Property(tries = 100)
  void jsonlGivesBackAnyStrings(@ForAll @Size(min = 1, max = 5) List<String> prompts, @ForAll @NotEmpty String completion) throws IOException {
    Path file = Files.createTempFile("roundtrip", ".jsonl");
    try {
      StringBuilder text = new StringBuilder();
      List<Example> expected = new ArrayList<>();
      for (int i = 0; i < prompts.size(); i++) {
        JsonObject o = new JsonObject();
        o.addProperty("prompt", prompts.get(i));
        o.addProperty("completion", completion);
        text.append(o).append('\n');
        expected.add(new Example.PromptCompletion(prompts.get(i), completion, new Origin(file.toString(), i + 1)));
      }
      byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
      if (!new String(bytes, StandardCharsets.UTF_8).contentEquals(text)) {
        return; // a lone surrogate, which no UTF-8 file can hold
      }
      Files.write(file, bytes);
      assertEquals(expected, DatasetReader.builder(file).build().read(Split.ALL).examples());
    } finally {
      Files.delete(file);
    }
  }

  @Property(tries = 100)
  void csvGivesBackAnyStrings(@ForAll @Size(min = 1, max = 5) List<@NotEmpty String> texts) throws IOException {
    Path file = Files.createTempFile("roundtrip", ".csv");
    try {
      StringBuilder csv = new StringBuilder("id,text\n");
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < texts.size(); i++) {
        // Line breaks inside quoted fields come back as \\n, as documented.
        String t = texts.get(i).replace("\r\n", "\n").replace('\r', '\n');
        csv.append(i).append(",\"").append(t.replace("\"", "\"\"")).append("\"\n");
        expected.add(t);
      }
      byte[] bytes = csv.toString().getBytes(StandardCharsets.UTF_8);
      if (!new String(bytes, StandardCharsets.UTF_8).contentEquals(csv)) {
        return; // lone surrogates
      }
      Files.write(file, bytes);
      List<String> read = DatasetReader.builder(file).build().read(Split.ALL).examples().stream().map(e -> ((Example.Text) e).text()).toList();
      assertEquals(expected, read);
    } finally {
      Files.delete(file);
    }
  }
}
