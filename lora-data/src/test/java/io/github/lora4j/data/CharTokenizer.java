package io.github.lora4j.data;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * A test tokenizer: one token per UTF-16 unit (id = the char + 10), except the special tokens
 * "<s>" (1), "</s>" (2) and "<pad>" (3), which are matched as whole tokens. With special tokens it
 * puts BOS in front, like Llama's post-processor.
 */
final class CharTokenizer implements Tokenizer {

  static final int BOS = 1;
  static final int EOS = 2;
  static final int PAD = 3;
  static final String[] SPECIAL = {null, "<s>", "</s>", "<pad>"};

  private final String chatTemplate;

  CharTokenizer() {
    this(null);
  }

  CharTokenizer(String chatTemplate) {
    this.chatTemplate = chatTemplate;
  }

  static int id(char c) {
    return c + 10;
  }

  @Override
  public Tokens encode(String text, boolean addSpecialTokens) {
    var ids = new java.util.ArrayList<Integer>();
    var starts = new java.util.ArrayList<Integer>();
    var ends = new java.util.ArrayList<Integer>();
    if (addSpecialTokens) {
      ids.add(BOS);
      starts.add(0);
      ends.add(0);
    }
    int i = 0;
    outer:
    while (i < text.length()) {
      for (int s = 1; s < SPECIAL.length; s++) {
        if (text.startsWith(SPECIAL[s], i)) {
          ids.add(s);
          starts.add(i);
          ends.add(i + SPECIAL[s].length());
          i += SPECIAL[s].length();
          continue outer;
        }
      }
      ids.add(id(text.charAt(i)));
      starts.add(i);
      ends.add(i + 1);
      i++;
    }
    return new Tokens(
        ids.stream().mapToInt(Integer::intValue).toArray(), starts.stream().mapToInt(Integer::intValue).toArray(), ends.stream().mapToInt(Integer::intValue).toArray());
  }

  @Override
  public String decode(int[] ids, boolean skipSpecialTokens) {
    StringBuilder out = new StringBuilder();
    for (int id : ids) {
      if (id < SPECIAL.length) {
        if (!skipSpecialTokens && id > 0) {
          out.append(SPECIAL[id]);
        }
      } else {
        out.append((char) (id - 10));
      }
    }
    return out.toString();
  }

  @Override
  public int vocabSize() {
    return 65546;
  }

  @Override
  public OptionalInt tokenId(String token) {
    for (int s = 1; s < SPECIAL.length; s++) {
      if (SPECIAL[s].equals(token)) {
        return OptionalInt.of(s);
      }
    }
    return token.length() == 1 ? OptionalInt.of(id(token.charAt(0))) : OptionalInt.empty();
  }

  @Override
  public Optional<String> bosToken() {
    return Optional.of("<s>");
  }

  @Override
  public Optional<String> eosToken() {
    return Optional.of("</s>");
  }

  @Override
  public Optional<String> padToken() {
    return Optional.of("<pad>");
  }

  @Override
  public Optional<String> chatTemplate() {
    return Optional.ofNullable(chatTemplate);
  }
}
