package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {

  static final String HEADER = "<|start_header_id|>";
  static final String END_HEADER = "<|end_header_id|>\n\n";

  @Test
  void llama31TemplateRendersAsTransformersDoes() throws IOException {
    {
      PretrainedTokenizer tokenizer = TestAssets.llama31();
      ChatTemplate template = ChatTemplate.of(tokenizer);
      List<Message> messages = List.of(Message.system("Be brief."), Message.user("  What is 2 + 2?  "), Message.assistant("4\n"));
      String expected =
          "<|begin_of_text|>"
              + HEADER + "system" + END_HEADER + "Be brief.<|eot_id|>"
              + HEADER + "user" + END_HEADER + "What is 2 + 2?<|eot_id|>"
              + HEADER + "assistant" + END_HEADER + "4<|eot_id|>";
      assertEquals(expected, template.render(messages, false));
      assertEquals(expected + HEADER + "assistant" + END_HEADER, template.render(messages, true));

      // The template writes BOS itself; tokenizing without special tokens gives exactly one.
      int[] ids = tokenizer.encode(template.render(messages, false), false).ids();
      assertEquals(128000, ids[0]);
      assertEquals(1, java.util.Arrays.stream(ids).filter(i -> i == 128000).count());
      assertEquals(128009, ids[ids.length - 1]);
    }
  }

  @Test
  void assistantSpansCoverContentAndEndOfTurn() throws IOException {
    {
      PretrainedTokenizer tokenizer = TestAssets.llama31();
      ChatTemplate template = ChatTemplate.of(tokenizer);
      List<Message> messages = List.of(Message.user("Hi"), Message.assistant("Hello!"), Message.user("Bye"), Message.assistant("Goodbye."));
      ChatTemplate.Rendered r = template.renderWithAssistantSpans(messages);
      assertEquals(2, r.assistantStarts().length);
      assertEquals("Hello!<|eot_id|>", r.text().substring(r.assistantStarts()[0], r.assistantEnds()[0]));
      assertEquals("Goodbye.<|eot_id|>", r.text().substring(r.assistantStarts()[1], r.assistantEnds()[1]));
    }
  }

  @Test
  void pythonishTemplateFeatures() {
    String source =
        "{% for m in messages %}{% if m.role == 'user' %}U:{{ m.content | trim }}{% elif m['role'] == 'assistant' %}A:{{ m.content }}{{ eos_token }}"
            + "{% else %}{{ raise_exception('roles must be user or assistant') }}{% endif %}{% if not loop.last %}|{% endif %}{% endfor %}"
            + "{% if add_generation_prompt %}|A:{% endif %}";
    ChatTemplate t = ChatTemplate.of(source, "<s>", "</s>");
    assertEquals("U:hi|A:yo</s>|A:", t.render(List.of(Message.user(" hi "), Message.assistant("yo")), true));
    var e = assertThrows(ChatTemplate.ChatTemplateException.class, () -> t.render(List.of(Message.system("x")), false));
    assertTrue(e.getMessage().contains("roles must be user or assistant"), e.getMessage());
  }

  @Test
  void blockWhitespaceIsTrimmedAsInTransformers() {
    // transformers renders with trim_blocks and lstrip_blocks: a block tag's newline and the
    // indentation before a block tag go; indentation before {{ }} stays; the template's final
    // newline goes.
    String source = "{% for m in messages %}\n    {{ m.content }}\n  {% endfor %}\n";
    assertEquals("    a\n    b\n", ChatTemplate.of(source, null, null).render(List.of(Message.user("a"), Message.user("b")), false));
    assertEquals("x\n", ChatTemplate.of("x\n\n", null, null).render(List.of(), false));
  }

  @Test
  void generationBlocksRenderTheirBody() {
    String source = "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}!{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}";
    ChatTemplate t = ChatTemplate.of(source, null, null);
    ChatTemplate.Rendered r = t.renderWithAssistantSpans(List.of(Message.user("q"), Message.assistant("a")));
    assertEquals("qa!", r.text());
    assertEquals("a!", r.text().substring(r.assistantStarts()[0], r.assistantEnds()[0]));
  }

  @Test
  void namespaceAndTojson() {
    String source = "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }} {{ messages[0].content | tojson }}";
    assertEquals("2 \"say \\\"hi\\\"\"", ChatTemplate.of(source, null, null).render(List.of(Message.user("say \"hi\""), Message.user("b")), false));
  }

  @Test
  void spansNeedAPrefixStableTemplate() {
    // A template that numbers turns from the end rewrites earlier turns as the conversation grows.
    String source = "{% for m in messages %}{{ messages|length - loop.index0 }}:{{ m.content }};{% endfor %}";
    ChatTemplate t = ChatTemplate.of(source, null, null);
    assertThrows(ChatTemplate.ChatTemplateException.class, () -> t.renderWithAssistantSpans(List.of(Message.user("a"), Message.assistant("b"))));
    assertArrayEquals(new int[0], ChatTemplate.of("{% for m in messages %}{{ m.content }}{% endfor %}", null, null).renderWithAssistantSpans(List.of(Message.user("a"))).assistantStarts());
  }
}
