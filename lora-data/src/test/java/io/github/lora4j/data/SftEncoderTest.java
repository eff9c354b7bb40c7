package io.github.lora4j.data;

import static io.github.lora4j.data.CharTokenizer.BOS;
import static io.github.lora4j.data.CharTokenizer.EOS;
import static io.github.lora4j.data.CharTokenizer.id;
import static io.github.lora4j.data.TokenBatch.IGNORE_INDEX;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class SftEncoderTest {

  static final SftConfig DEFAULTS = SftConfig.builder().build();
  static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}";

  @Test
  void textTrainsOnEveryTokenAndEndsWithEos() {
    TokenizedExample t = new SftEncoder(new CharTokenizer(), DEFAULTS).encode(new Example.Text("ab"));
    assertArrayEquals(new int[] {BOS, id('a'), id('b'), EOS}, t.inputIds());
    // As in TRL, labels are the ids; the first is never a target (labels shift by one).
    assertArrayEquals(t.inputIds(), t.labels());
    assertEquals(3, t.lossTokens());
    assertFalse(t.truncated());
  }

  @Test
  void eosIsNotDoubled() {
    TokenizedExample t = new SftEncoder(new CharTokenizer(), DEFAULTS).encode(new Example.Text("ab</s>"));
    assertArrayEquals(new int[] {BOS, id('a'), id('b'), EOS}, t.inputIds());
    TokenizedExample noEos = new SftEncoder(new CharTokenizer(), SftConfig.builder().addEos(false).build()).encode(new Example.Text("ab"));
    assertArrayEquals(new int[] {BOS, id('a'), id('b')}, noEos.inputIds());
  }

  @Test
  void completionOnlyLossMasksThePrompt() {
    Example e = new Example.PromptCompletion("Q?", "A");
    TokenizedExample t = new SftEncoder(new CharTokenizer(), DEFAULTS).encode(e);
    assertArrayEquals(new int[] {BOS, id('Q'), id('?'), id('A'), EOS}, t.inputIds());
    assertArrayEquals(new int[] {IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, id('A'), EOS}, t.labels());

    TokenizedExample all = new SftEncoder(new CharTokenizer(), SftConfig.builder().completionOnlyLoss(false).build()).encode(e);
    assertArrayEquals(new int[] {BOS, id('Q'), id('?'), id('A'), EOS}, all.labels());
  }

  @Test
  void assistantOnlyLossForConversations() {
    CharTokenizer tokenizer = new CharTokenizer(TEMPLATE);
    Example e = new Example.Conversation(List.of(Message.user("hi"), Message.assistant("yo")));
    TokenizedExample t = new SftEncoder(tokenizer, DEFAULTS).encode(e);
    String rendered = "<s>[user]hi</s>[assistant]yo</s>";
    assertArrayEquals(tokenizer.encode(rendered, false).ids(), t.inputIds());
    // Trained: "yo" and its end-of-turn token, nothing else; no EOS appended (the template wrote it).
    String trained = tokenizer.decode(java.util.Arrays.stream(t.labels()).filter(l -> l != IGNORE_INDEX).toArray(), false);
    assertEquals("yo</s>", trained);

    TokenizedExample all = new SftEncoder(tokenizer, SftConfig.builder().assistantOnlyLoss(false).build()).encode(e);
    assertEquals(t.length() - 1, all.lossTokens());
  }

  @Test
  void truncationKeepsTheStartAndIsCounted() {
    TokenizedExample t = new SftEncoder(new CharTokenizer(), SftConfig.builder().maxSequenceLength(4).build()).encode(new Example.PromptCompletion("ab", "cdef"));
    assertArrayEquals(new int[] {BOS, id('a'), id('b'), id('c')}, t.inputIds());
    assertTrue(t.truncated());
    assertEquals(8, t.untruncatedLength());
    assertEquals(1, t.lossTokens());
  }

  @Test
  void nothingLeftToLearnIsAnInvalidRecord() {
    var encoder = new SftEncoder(new CharTokenizer(), SftConfig.builder().maxSequenceLength(3).build());
    Origin origin = new Origin("data.jsonl", 12);
    var e = assertThrows(InvalidRecordException.class, () -> encoder.encode(new Example.PromptCompletion("long prompt", "x", origin)));
    assertEquals(origin, e.origin());
    assertTrue(e.getMessage().startsWith("data.jsonl:12: no token of the completion is left after truncation (14 tokens, maxSequenceLength 3)"), e.getMessage());

    var noAssistant = new SftEncoder(new CharTokenizer(TEMPLATE), DEFAULTS);
    var e2 = assertThrows(InvalidRecordException.class, () -> noAssistant.encode(new Example.Conversation(List.of(Message.user("hi")), origin)));
    assertTrue(e2.getMessage().startsWith("data.jsonl:12: no token carries loss"), e2.getMessage());
  }

  @Test
  void llamaPromptCompletionTrainsOnThePriceOnly() throws IOException {
    {
      PretrainedTokenizer tokenizer = TestAssets.llama31();
      var encoder = new SftEncoder(tokenizer, DEFAULTS);
      TokenizedExample t = encoder.encode(new Example.PromptCompletion("How much does this cost?\n\nPrice is $", "129.00"));
      assertEquals(128000, t.inputIds()[0]);
      assertEquals(128009, t.inputIds()[t.length() - 1]);
      int[] trained = java.util.Arrays.stream(t.labels()).filter(l -> l != IGNORE_INDEX).toArray();
      assertEquals("129.00<|eot_id|>", tokenizer.decode(trained, false));
    }
  }

  @Test
  void llamaConversationTrainsOnAssistantTurns() throws IOException {
    {
      PretrainedTokenizer tokenizer = TestAssets.llama31();
      var encoder = new SftEncoder(tokenizer, DEFAULTS);
      TokenizedExample t = encoder.encode(new Example.Conversation(List.of(Message.user("Hi"), Message.assistant("Hello!"), Message.user("Bye"), Message.assistant("Bye."))));
      assertEquals(128000, t.inputIds()[0]);
      assertEquals(1, java.util.Arrays.stream(t.inputIds()).filter(i -> i == 128000).count(), "one BOS, from the template");
      StringBuilder trained = new StringBuilder();
      for (int i = 0; i < t.length(); i++) {
        if (t.labels()[i] != IGNORE_INDEX) {
          trained.append(tokenizer.decode(new int[] {t.inputIds()[i]}, false)).append('|');
        }
      }
      assertEquals("Hello|!|<|eot_id|>|By|e|.|<|eot_id|>|", trained.toString());
    }
  }
}
