package io.github.lora4j.core.train;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where and how a run pushes its adapter to the Hugging Face Hub: transformers' {@code
 * push_to_hub}, {@code hub_model_id}, {@code hub_private_repo}, {@code hub_strategy} and {@code
 * hub_token}. Made by {@link io.github.lora4j.core.Trainer.Builder#pushToHub}; {@link #toString()}
 * never shows the token.
 *
 * @param repoId the model repository, {@code "namespace/name"}; created if missing
 * @param privateRepo whether a repository the run creates is private
 * @param strategy when to push
 * @param endpoint the Hub's base URL ({@code HF_ENDPOINT}; https://huggingface.co by default)
 * @param token a token with write access ({@code HF_TOKEN})
 * @param waitAtEnd how long {@code fit()} waits, once training is done, for the uploads still
 *     running; they go on in the background after that, while the JVM lives
 */
public record HubSettings(String repoId, boolean privateRepo, HubStrategy strategy, URI endpoint, String token, Duration waitAtEnd) {

  /** The public Hub. */
  public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
  /** The environment variable the token comes from, as huggingface_hub reads it. */
  public static final String TOKEN_ENV = "HF_TOKEN";
  /** The environment variable that points uploads at another Hub (a mirror, a test server). */
  public static final String ENDPOINT_ENV = "HF_ENDPOINT";
  /** The default of {@link #waitAtEnd}. */
  public static final Duration DEFAULT_WAIT_AT_END = Duration.ofMinutes(10);

  // The Hub's rule for namespaces and repository names: letters, digits, '-', '_', '.', up to 96.
  private static final Pattern NAME_PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");

  /** Checks every component. */
  public HubSettings {
    checkRepoId(repoId);
    Objects.requireNonNull(strategy, "strategy");
    checkEndpoint("endpoint", endpoint);
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException(TOKEN_ENV + " is not set; pushing to the Hub needs a token with write access "
          + "(https://huggingface.co/settings/tokens)");
    }
    if (waitAtEnd == null || waitAtEnd.isNegative()) {
      throw new IllegalArgumentException("waitAtEnd must be >= 0: " + waitAtEnd);
    }
  }

  /**
   * Checks a repository id, {@code "namespace/name"}.
   *
   * @throws IllegalArgumentException saying what the Hub accepts
   */
  public static String checkRepoId(String repoId) {
    Objects.requireNonNull(repoId, "repoId");
    String[] parts = repoId.split("/", -1);
    if (parts.length != 2 || !NAME_PART.matcher(parts[0]).matches() || !NAME_PART.matcher(parts[1]).matches()
        || parts[1].endsWith(".git") || repoId.contains("..") || repoId.contains("--")) {
      throw new IllegalArgumentException("hub repository must be \"namespace/name\" (letters, digits, '-', '_', '.'): \"" + repoId + "\"");
    }
    return repoId;
  }

  /**
   * Checks a Hub URL.
   *
   * @throws IllegalArgumentException naming {@code what} unless it is an http(s) URL with a host
   */
  public static URI checkEndpoint(String what, URI endpoint) {
    Objects.requireNonNull(endpoint, what);
    if (!("https".equals(endpoint.getScheme()) || "http".equals(endpoint.getScheme())) || endpoint.getHost() == null) {
      throw new IllegalArgumentException(what + " must be an http(s) URL: " + endpoint);
    }
    return endpoint;
  }

  /** The settings with the token hidden. */
  @Override
  public String toString() {
    return "HubSettings[repoId=" + repoId + ", privateRepo=" + privateRepo + ", strategy=" + strategy + ", endpoint=" + endpoint
        + ", token=***, waitAtEnd=" + waitAtEnd + "]";
  }
}
