package io.github.lora4j.data;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * A text tokenizer as SFT needs one: ids with character spans (to tell prompt tokens from
 * completion tokens), the special tokens, and the chat template. {@link PretrainedTokenizer} is
 * the Hugging Face implementation; tests may use a simpler one.
 */
public interface Tokenizer {

  /**
   * Tokenizes {@code text}. With {@code addSpecialTokens}, the tokenizer's post-processor adds its
   * special tokens (Llama 3: {@code <|begin_of_text|>} in front), as Hugging Face's {@code
   * tokenizer(text)} does; without, only the text's own tokens come back, as for a rendered chat
   * template, which writes its own.
   */
  Tokens encode(String text, boolean addSpecialTokens);

  /** The text of {@code ids}, leaving special tokens out when asked to. */
  String decode(int[] ids, boolean skipSpecialTokens);

  /** The number of token ids, regular and added: one more than the largest id. */
  int vocabSize();

  /** The id of {@code token} as one whole token (a special token, or a vocabulary entry). */
  OptionalInt tokenId(String token);

  /** The beginning-of-sequence token's text, as the tokenizer config names it. */
  Optional<String> bosToken();

  /** The end-of-sequence token's text, as the tokenizer config names it. */
  Optional<String> eosToken();

  /** The padding token's text, if the config names one. */
  Optional<String> padToken();

  /** The Jinja chat template, if the config has one. */
  Optional<String> chatTemplate();

  default OptionalInt bosTokenId() {
    return bosToken().map(this::tokenId).orElse(OptionalInt.empty());
  }

  default OptionalInt eosTokenId() {
    return eosToken().map(this::tokenId).orElse(OptionalInt.empty());
  }

  /**
   * The id that fills padding: the pad token's, else the EOS token's (TRL's fallback), else 0. It
   * only fills positions that are masked out and carry no loss, so any valid id does.
   */
  default int padTokenIdOrDefault() {
    OptionalInt pad = padToken().map(this::tokenId).orElse(OptionalInt.empty());
    if (pad.isPresent()) {
      return pad.getAsInt();
    }
    return eosTokenId().orElse(0);
  }
}
