package io.github.lora4j.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Turns an {@link Example} into token ids and labels as TRL's {@code SFTTrainer} does:
 *
 * <ul>
 *   <li>text: tokenized with the tokenizer's special tokens (Llama: BOS in front), EOS appended;
 *       every token carries loss;
 *   <li>prompt-completion: {@code prompt + completion} tokenized the same way, EOS appended; with
 *       completion-only loss, tokens that hold any character of the completion (and the EOS) carry
 *       loss, the prompt's do not;
 *   <li>conversation: rendered with the chat template and tokenized without added special tokens
 *       (the template writes BOS and end-of-turn tokens); with assistant-only loss, the tokens of
 *       the assistant's turns carry loss.
 * </ul>
 *
 * Then anything past {@code maxSequenceLength} is cut off the end (TRL's {@code keep_start}); the
 * example remembers its untruncated length so the cut is counted. An example left with no token
 * that carries loss is an {@link InvalidRecordException} naming its origin.
 */
public final class SftEncoder {

  private final Tokenizer tokenizer;
  private final SftConfig config;
  private final OptionalInt eos;
  private ChatTemplate template;

  public SftEncoder(Tokenizer tokenizer, SftConfig config) {
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    this.config = Objects.requireNonNull(config, "config");
    this.eos = tokenizer.eosTokenId();
    if (config.addEos() && eos.isEmpty()) {
      throw new IllegalArgumentException("addEos is set but the tokenizer config names no eos_token (or it is not a token)");
    }
  }

  public SftConfig config() {
    return config;
  }

  /**
   * Tokenizes, labels and truncates one example.
   *
   * @throws InvalidRecordException when no token would carry loss, or the chat template fails
   */
  public TokenizedExample encode(Example example) {
    return switch (example) {
      case Example.Text t -> finish(example, labelled(tokenizer.encode(t.text(), true), 0), "text");
      case Example.PromptCompletion pc -> {
        Tokens tokens = tokenizer.encode(pc.prompt() + pc.completion(), true);
        // A token with any completion character in it is the completion's.
        yield finish(example, labelled(tokens, config.completionOnlyLoss() ? pc.prompt().length() : 0), "completion");
      }
      case Example.Conversation c -> conversation(c);
    };
  }

  private TokenizedExample conversation(Example.Conversation c) {
    ChatTemplate.Rendered r;
    try {
      r = chatTemplate().renderWithAssistantSpans(c.messages());
    } catch (ChatTemplate.ChatTemplateException e) {
      throw new InvalidRecordException(c.origin(), "messages", "the chat template cannot render it", e.getMessage(), e);
    }
    Tokens tokens = tokenizer.encode(r.text(), false);
    int[] ids = tokens.ids();
    int[] labels = new int[ids.length];
    Arrays.fill(labels, TokenBatch.IGNORE_INDEX);
    for (int i = 0; i < ids.length; i++) {
      boolean trained = !config.assistantOnlyLoss();
      for (int s = 0; s < r.assistantStarts().length && !trained; s++) {
        trained = tokens.starts()[i] < r.assistantEnds()[s] && tokens.ends()[i] > r.assistantStarts()[s];
      }
      if (trained) {
        labels[i] = ids[i];
      }
    }
    return truncate(c, ids, labels, "assistant turns (messages)");
  }

  /** Labels every token that ends after {@code lossFrom} in the text; appends EOS when asked to. */
  private int[][] labelled(Tokens tokens, int lossFrom) {
    int[] ids = tokens.ids();
    boolean appendEos = config.addEos() && (ids.length == 0 || ids[ids.length - 1] != eos.getAsInt());
    int n = ids.length + (appendEos ? 1 : 0);
    int[] outIds = Arrays.copyOf(ids, n);
    int[] labels = new int[n];
    for (int i = 0; i < ids.length; i++) {
      labels[i] = tokens.ends()[i] > lossFrom ? ids[i] : TokenBatch.IGNORE_INDEX;
    }
    if (appendEos) {
      outIds[n - 1] = eos.getAsInt();
      labels[n - 1] = eos.getAsInt();
    }
    return new int[][] {outIds, labels};
  }

  private TokenizedExample finish(Example e, int[][] idsAndLabels, String trainedPart) {
    return truncate(e, idsAndLabels[0], idsAndLabels[1], trainedPart);
  }

  private TokenizedExample truncate(Example e, int[] ids, int[] labels, String trainedPart) {
    int max = config.maxSequenceLength();
    int untruncated = ids.length;
    if (ids.length > max) {
      ids = Arrays.copyOf(ids, max);
      labels = Arrays.copyOf(labels, max);
    }
    if (ids.length == 0) {
      throw new InvalidRecordException(e.origin(), null, "tokenizes to nothing");
    }
    TokenizedExample t = new TokenizedExample(ids, labels, untruncated, e.origin());
    if (t.lossTokens() == 0) {
      String why = untruncated > max ? "no token of the " + trainedPart + " is left after truncation" : "no token carries loss";
      throw new InvalidRecordException(e.origin(), null, why, untruncated + " tokens, maxSequenceLength " + max, null);
    }
    return t;
  }

  private ChatTemplate chatTemplate() {
    if (template == null) {
      template = ChatTemplate.of(tokenizer);
    }
    return template;
  }
}
