package io.github.lora4j.data;

import java.util.Arrays;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an {@link Example} into token ids and labels as TRL's {@code SFTTrainer} prepares a dataset
 * (TRL 1.13, checked against it by a golden test):
 *
 * <ul>
 *   <li>text: the EOS token's text is appended unless the text already ends with it, then the text
 *       is tokenized with the tokenizer's special tokens (Llama: BOS in front); every token is a
 *       label;
 *   <li>prompt-completion: the same EOS rule for the completion; {@code prompt + completion} is
 *       tokenized, and with completion-only loss the first {@code n} tokens, where {@code n} is the
 *       length of the prompt tokenized alone, get no label;
 *   <li>conversation: rendered with the chat template and tokenized without added special tokens
 *       (the template writes BOS and end-of-turn tokens); with assistant-only loss only the tokens
 *       of the assistant's turns (content and end-of-turn token) are labels.
 * </ul>
 *
 * Then anything past {@code maxSequenceLength} is cut off the end (TRL's {@code keep_start}); the
 * example remembers its untruncated length so the cut is counted. An example left with no label
 * (TRL drops it silently) is an {@link InvalidRecordException} naming its origin.
 */
public final class SftEncoder {

  private static final Logger LOG = LoggerFactory.getLogger(SftEncoder.class);

  private final Tokenizer tokenizer;
  private final SftConfig config;
  private final String eosToken;
  private ChatTemplate template;
  private boolean warnedPromptMismatch;

  public SftEncoder(Tokenizer tokenizer, SftConfig config) {
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    this.config = Objects.requireNonNull(config, "config");
    this.eosToken = tokenizer.eosToken().orElse(null);
    if (config.addEos() && (eosToken == null || tokenizer.tokenId(eosToken).isEmpty())) {
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
      case Example.Text t -> {
        int[] ids = tokenizer.encode(withEos(t.text()), true).ids();
        yield truncate(example, ids, ids.clone(), "text");
      }
      case Example.PromptCompletion pc -> promptCompletion(pc);
      case Example.Conversation c -> conversation(c);
    };
  }

  private TokenizedExample promptCompletion(Example.PromptCompletion pc) {
    int[] ids = tokenizer.encode(pc.prompt() + withEos(pc.completion()), true).ids();
    int[] labels = ids.clone();
    if (config.completionOnlyLoss()) {
      int[] promptIds = tokenizer.encode(pc.prompt(), true).ids();
      if (!Arrays.equals(promptIds, 0, promptIds.length, ids, 0, Math.min(promptIds.length, ids.length)) && !warnedPromptMismatch) {
        // TRL warns too: a token spans the prompt's end and the completion's start, so the split by
        // count (TRL's rule, kept for parity) gives that token to the prompt.
        warnedPromptMismatch = true;
        LOG.warn("{}: the prompt's tokens are not a prefix of prompt + completion's; tokens are split by the prompt's count, as TRL does (logged once)", pc.origin());
      }
      Arrays.fill(labels, 0, Math.min(promptIds.length, labels.length), TokenBatch.IGNORE_INDEX);
    }
    return truncate(pc, ids, labels, "completion");
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
    int[] labels = ids.clone();
    if (config.assistantOnlyLoss()) {
      for (int i = 0; i < ids.length; i++) {
        boolean assistant = false;
        for (int s = 0; s < r.assistantStarts().length && !assistant; s++) {
          assistant = tokens.starts()[i] < r.assistantEnds()[s] && tokens.ends()[i] > r.assistantStarts()[s];
        }
        if (!assistant) {
          labels[i] = TokenBatch.IGNORE_INDEX;
        }
      }
    }
    return truncate(c, ids, labels, "assistant turns (messages)");
  }

  private String withEos(String text) {
    return config.addEos() && !text.endsWith(eosToken) ? text + eosToken : text;
  }

  private TokenizedExample truncate(Example e, int[] ids, int[] labels, String trainedPart) {
    int max = config.maxSequenceLength();
    int untruncated = ids.length;
    if (ids.length == 0) {
      throw new InvalidRecordException(e.origin(), null, "tokenizes to nothing");
    }
    if (ids.length > max) {
      ids = Arrays.copyOf(ids, max);
      labels = Arrays.copyOf(labels, max);
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
