package io.github.lora4j.data;

import java.util.Objects;

/**
 * One turn of a conversation, as in Hugging Face's {@code messages} lists.
 *
 * @param role {@code system}, {@code user}, {@code assistant} or whatever the chat template knows
 * @param content the text of the turn
 */
public record Message(String role, String content) {

  /** The role whose turns carry the loss with assistant-only training. */
  public static final String ASSISTANT = "assistant";

  public Message {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
    if (role.isBlank()) {
      throw new IllegalArgumentException("role must not be blank");
    }
  }

  public static Message system(String content) {
    return new Message("system", content);
  }

  public static Message user(String content) {
    return new Message("user", content);
  }

  public static Message assistant(String content) {
    return new Message(ASSISTANT, content);
  }

  /** True for the assistant's turns. */
  public boolean isAssistant() {
    return ASSISTANT.equals(role);
  }
}
