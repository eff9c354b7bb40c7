package io.github.lora4j.data;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A model's Jinja chat template from {@code tokenizer_config.json}, rendered with Jinjava the way
 * transformers' {@code apply_chat_template} renders it: {@code trim_blocks} and {@code
 * lstrip_blocks} on, {@code messages}, {@code add_generation_prompt}, {@code bos_token} and {@code
 * eos_token} bound, {@code raise_exception} and {@code strftime_now} defined, and the {@code {%
 * generation %}} block accepted. A template that
 * writes {@code bos_token} itself is how a chat model gets its BOS: the rendered text is tokenized
 * without adding special tokens, as transformers does.
 *
 * <pre>{@code
 * ChatTemplate template = ChatTemplate.of(tokenizer);
 * String text = template.render(List.of(Message.user("Hi")), true);
 * }</pre>
 */
public final class ChatTemplate {

  private static final Jinjava JINJA = newJinjava();

  private final String template;
  private final String bosToken;
  private final String eosToken;

  private ChatTemplate(String template, String bosToken, String eosToken) {
    Objects.requireNonNull(template, "template");
    // Jinja2 (keep_trailing_newline off) drops one newline at the end of the template source.
    // Jinjava's option of that name strips the rendered output instead, which would eat the
    // "\n\n" a generation prompt ends with; so Jinjava keeps newlines and the source loses its
    // own here.
    this.template = template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
  }

  /**
   * The template of {@code tokenizer}'s config, with its BOS and EOS tokens.
   *
   * @throws IllegalArgumentException when the config has no chat template
   */
  public static ChatTemplate of(Tokenizer tokenizer) {
    String t =
        tokenizer.chatTemplate().orElseThrow(() -> new IllegalArgumentException("the tokenizer config has no chat_template; conversational data needs one"));
    return new ChatTemplate(t, tokenizer.bosToken().orElse(null), tokenizer.eosToken().orElse(null));
  }

  /** A template from its source and the special tokens it may refer to (null for none). */
  public static ChatTemplate of(String template, String bosToken, String eosToken) {
    return new ChatTemplate(template, bosToken, eosToken);
  }

  /**
   * Renders a conversation.
   *
   * @param addGenerationPrompt end with the header of an assistant turn, for generation
   * @throws ChatTemplateException when the template fails or calls {@code raise_exception}
   */
  public String render(List<Message> messages, boolean addGenerationPrompt) {
    Map<String, Object> bindings = new HashMap<>();
    List<Map<String, Object>> list = new ArrayList<>(messages.size());
    for (Message m : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role());
      map.put("content", m.content());
      list.add(map);
    }
    bindings.put("messages", list);
    bindings.put("add_generation_prompt", addGenerationPrompt);
    bindings.put("bos_token", bosToken);
    bindings.put("eos_token", eosToken);
    RenderResult result;
    try {
      result = JINJA.renderForResult(template, bindings);
    } catch (RuntimeException e) {
      throw new ChatTemplateException("the chat template failed: " + rootMessage(e), e);
    }
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        String message = error.getException() != null ? rootMessage(error.getException()) : error.getMessage();
        throw new ChatTemplateException("the chat template failed at line " + error.getLineno() + ": " + message, error.getException());
      }
    }
    return result.getOutput();
  }

  /**
   * A rendered conversation and the character spans of its assistant turns as the template writes
   * them (content and end-of-turn token), which are the tokens assistant-only training learns.
   *
   * @param text the whole conversation, rendered
   * @param assistantStarts the start of each assistant turn in {@code text}
   * @param assistantEnds the end (exclusive) of each assistant turn in {@code text}
   */
  public record Rendered(String text, int[] assistantStarts, int[] assistantEnds) {}

  /**
   * Renders {@code messages} and finds each assistant turn by rendering the conversation up to it
   * twice: once ending in the generation prompt (where the turn starts), once including the turn
   * (where it ends). transformers finds them with the template's {@code {% generation %}} blocks,
   * which few templates have; this works for any template whose rendering of a conversation starts
   * with its rendering of every shorter one, as chat templates do.
   *
   * @throws ChatTemplateException when the template is not of that kind
   */
  public Rendered renderWithAssistantSpans(List<Message> messages) {
    String text = render(messages, false);
    List<int[]> spans = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      if (!messages.get(i).isAssistant()) {
        continue;
      }
      String before = render(messages.subList(0, i), true);
      String through = render(messages.subList(0, i + 1), false);
      if (!through.startsWith(before) || !text.startsWith(through)) {
        throw new ChatTemplateException(
            "cannot find assistant turn " + i + ": the chat template's rendering of the conversation up to it is not a prefix of the whole (a template that rewrites earlier turns, or an assistant turn first)");
      }
      spans.add(new int[] {before.length(), through.length()});
    }
    int[] starts = new int[spans.size()];
    int[] ends = new int[spans.size()];
    for (int i = 0; i < starts.length; i++) {
      starts[i] = spans.get(i)[0];
      ends[i] = spans.get(i)[1];
    }
    return new Rendered(text, starts, ends);
  }

  /** The template source. */
  public String source() {
    return template;
  }

  /** Thrown by a template that fails, or that raises an exception on purpose. */
  public static final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message, Throwable cause) {
      super(message, cause);
    }

    ChatTemplateException(String message) {
      super(message);
    }
  }

  /** transformers' {@code raise_exception}, which templates call to reject a conversation. */
  public static String raiseException(String message) {
    throw new ChatTemplateException("the chat template raised: " + message);
  }

  /**
   * transformers' {@code strftime_now}: the local date and time in a Python strftime format (the
   * directives chat templates use: %d %m %Y %y %b %B %a %A %H %M %S %%).
   */
  public static String strftimeNow(String format) {
    LocalDateTime now = LocalDateTime.now();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char d = format.charAt(++i);
      switch (d) {
        case 'd' -> out.append(String.format("%02d", now.getDayOfMonth()));
        case 'm' -> out.append(String.format("%02d", now.getMonthValue()));
        case 'Y' -> out.append(now.getYear());
        case 'y' -> out.append(String.format("%02d", now.getYear() % 100));
        case 'b' -> out.append(now.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
        case 'B' -> out.append(now.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
        case 'a' -> out.append(now.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
        case 'A' -> out.append(now.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
        case 'H' -> out.append(String.format("%02d", now.getHour()));
        case 'M' -> out.append(String.format("%02d", now.getMinute()));
        case 'S' -> out.append(String.format("%02d", now.getSecond()));
        case '%' -> out.append('%');
        default -> throw new ChatTemplateException("strftime_now: unsupported directive %" + d + " in \"" + format + "\"");
      }
    }
    return out.toString();
  }

  private static Jinjava newJinjava() {
    // LegacyOverrides.ALL turns on Jinjava's Python-compatible behaviours (Python-style output of
    // values, dict iteration over keys, natural operator precedence), closest to Jinja2.
    JinjavaConfig config =
        JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).withKeepTrailingNewline(true).withLegacyOverrides(LegacyOverrides.ALL).build();
    Jinjava jinjava = new Jinjava(config);
    jinjava.registerTag(new GenerationTag());
    try {
      jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class.getMethod("raiseException", String.class)));
      jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplate.class.getMethod("strftimeNow", String.class)));
    } catch (NoSuchMethodException e) {
      throw new AssertionError(e);
    }
    return jinjava;
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      if (root instanceof ChatTemplateException) {
        break;
      }
      root = root.getCause();
    }
    return root.getMessage();
  }
}
