package io.github.lora4j.core.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes an adapter folder to a Hugging Face Hub model repository through the Hub's HTTP API: the
 * repository is created if missing ({@code POST /api/repos/create}, private unless asked
 * otherwise), then every file of the folder goes up in one commit ({@code POST
 * /api/models/{repo}/commit/{revision}}, an NDJSON body: a header line, then one line per file
 * with its content in base64).
 *
 * <p>Uploads never throw into the training loop: a failed attempt (network error, HTTP 5xx, 408 or
 * 429) is retried with exponential backoff up to {@code maxAttempts}, each failure is reported
 * (a log line, or the given reporter), and the outcome comes back as a {@link Result}. A refused
 * token or another client error is not retried. The token ({@code HF_TOKEN}) is sent only in the
 * Authorization header and never appears in a report.
 *
 * <p>Files travel inline, which suits adapters of a few megabytes; the Hub keeps large binary files
 * in LFS/Xet storage, which this uploader does not speak, and refuses them with an HTTP 4xx that
 * the result then carries.
 */
final class HubUploader {

  static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
  static final String TOKEN_ENV = "HF_TOKEN";

  private static final Logger LOG = LoggerFactory.getLogger(HubUploader.class);
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
  // The Hub's rule for namespaces and repository names: letters, digits, '-', '_', '.', up to 96.
  private static final Pattern NAME_PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

  /**
   * The outcome of one upload.
   *
   * @param ok whether the commit was made
   * @param attempts how many attempts it took (0 when there was nothing to send)
   * @param files how many files the commit holds
   * @param commitUrl the commit's URL as the Hub gave it, or null
   * @param error why it failed, or null
   */
  record Result(boolean ok, int attempts, int files, String commitUrl, String error) {}

  /** A file of the commit: its path in the repository and its bytes. */
  record FileContent(String path, byte[] bytes) {}

  private final URI endpoint;
  private final String namespace;
  private final String name;
  private final String revision;
  private final boolean privateRepo;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration requestTimeout;
  private final Consumer<String> reporter;
  private final HttpClient http;
  private final String token;
  private volatile boolean repoExists;

  private HubUploader(Builder b) {
    this.endpoint = b.endpoint;
    this.namespace = b.namespace;
    this.name = b.name;
    this.revision = b.revision;
    this.privateRepo = b.privateRepo;
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.requestTimeout = b.requestTimeout;
    this.reporter = b.reporter;
    this.http = b.http != null ? b.http
        : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).followRedirects(HttpClient.Redirect.NORMAL)
            .build();
    this.token = b.token;
  }

  /** A builder for {@code repoId} ("namespace/name") with the token from {@code HF_TOKEN}. */
  static Builder builder(String repoId) {
    return builder(repoId, System.getenv());
  }

  static Builder builder(String repoId, Map<String, String> environment) {
    return new Builder(repoId, environment.get(TOKEN_ENV));
  }

  String repoId() {
    return namespace + "/" + name;
  }

  @Override
  public String toString() {
    return "HubUploader[" + endpoint + "/" + repoId() + "@" + revision + "]";
  }

  /** Uploads every file under {@code folder} as one commit with {@code summary}; never throws. */
  Result upload(Path folder, String summary) {
    List<FileContent> files;
    try {
      files = read(folder);
    } catch (IOException | RuntimeException e) {
      return fail(0, 0, "cannot read " + folder + ": " + e.getMessage());
    }
    return upload(files, summary);
  }

  /**
   * Reads the folder now and uploads it on a background thread, so that the caller may delete or
   * overwrite the folder (a rotated checkpoint) while the upload runs.
   */
  CompletableFuture<Result> uploadAsync(Path folder, String summary) {
    List<FileContent> files;
    try {
      files = read(folder);
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.completedFuture(fail(0, 0, "cannot read " + folder + ": " + e.getMessage()));
    }
    var result = new CompletableFuture<Result>();
    Thread.ofVirtual().name("hub-upload-" + repoId()).start(() -> result.complete(upload(files, summary)));
    return result;
  }

  Result upload(List<FileContent> files, String summary) {
    if (files.isEmpty()) {
      return fail(0, 0, "nothing to upload: the folder holds no files");
    }
    String body = commitPayload(summary, files);
    for (int attempt = 1; ; attempt++) {
      Attempt a;
      try {
        a = attempt(body);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail(attempt, files.size(), "interrupted");
      } catch (RuntimeException e) {
        a = Attempt.failed(true, e.toString(), null);
      }
      if (a.commitUrl() != null) {
        report(false, "uploaded " + files.size() + " file(s) to " + repoId() + " at " + revision + ": " + a.commitUrl());
        return new Result(true, attempt, files.size(), a.commitUrl(), null);
      }
      String error = redact(a.error());
      if (!a.retryable() || attempt == maxAttempts) {
        return fail(attempt, files.size(), error);
      }
      Duration wait = backoff(attempt, a.retryAfter());
      report(true, "hub upload to " + repoId() + ": attempt " + attempt + " of " + maxAttempts + " failed ("
          + error + "); retrying in " + wait.toMillis() + " ms");
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail(attempt, files.size(), "interrupted while waiting to retry; last error: " + error);
      }
    }
  }

  private record Attempt(String commitUrl, boolean retryable, String error, Duration retryAfter) {
    static Attempt failed(boolean retryable, String error, Duration retryAfter) {
      return new Attempt(null, retryable, error, retryAfter);
    }
  }

  private Attempt attempt(String commitBody) throws InterruptedException {
    try {
      if (!repoExists) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(endpoint.resolve("/api/repos/create"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(createPayload(), StandardCharsets.UTF_8)));
        // 409: the repository is there already, which is what we want.
        if (r.statusCode() / 100 != 2 && r.statusCode() != 409) {
          return httpFailure("creating the repository", r);
        }
        repoExists = true;
      }
      String path = "/api/models/" + namespace + "/" + name + "/commit/"
          + URLEncoder.encode(revision, StandardCharsets.UTF_8).replace("+", "%20");
      HttpResponse<String> r = send(HttpRequest.newBuilder(endpoint.resolve(path))
          .header("Content-Type", "application/x-ndjson")
          .POST(HttpRequest.BodyPublishers.ofString(commitBody, StandardCharsets.UTF_8)));
      if (r.statusCode() / 100 != 2) {
        if (r.statusCode() == 404) {
          repoExists = false; // deleted meanwhile: create it again on the next upload
        }
        return httpFailure("committing", r);
      }
      return new Attempt(commitUrl(r.body()), false, null, null);
    } catch (IOException e) {
      return Attempt.failed(true, e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()),
          null);
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
    return http.send(request.timeout(requestTimeout).header("Authorization", "Bearer " + token).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private Attempt httpFailure(String what, HttpResponse<String> r) {
    int code = r.statusCode();
    boolean retryable = code >= 500 || code == 408 || code == 429;
    String hint = code == 401 || code == 403
        ? "; the Hub refused the token: check that " + TOKEN_ENV + " is set to a token with write access to "
            + repoId()
        : "";
    String body = r.body() == null ? "" : r.body().strip();
    if (body.length() > 300) {
      body = body.substring(0, 300) + "...";
    }
    Duration retryAfter = r.headers().firstValue("Retry-After").flatMap(HubUploader::seconds).orElse(null);
    return Attempt.failed(retryable, what + ": HTTP " + code + (body.isEmpty() ? "" : " " + body) + hint, retryAfter);
  }

  private static Optional<Duration> seconds(String header) {
    try {
      return Optional.of(Duration.ofSeconds(Long.parseLong(header.strip())));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private Duration backoff(int attempt, Duration retryAfter) {
    Duration d = initialBackoff.multipliedBy(1L << Math.min(attempt - 1, 20));
    if (retryAfter != null && retryAfter.compareTo(d) > 0) {
      d = retryAfter;
    }
    return d.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : d;
  }

  private Result fail(int attempts, int files, String error) {
    report(true, "hub upload to " + repoId() + " failed" + (attempts > 0 ? " after " + attempts + " attempt(s)" : "")
        + ": " + error + "; training goes on");
    return new Result(false, attempts, files, null, error);
  }

  private void report(boolean problem, String line) {
    String safe = redact(line);
    if (reporter != null) {
      reporter.accept(safe);
    } else if (problem) {
      LOG.warn(safe);
    } else {
      LOG.info(safe);
    }
  }

  /** A server may echo the request; the token must not reach a log through it. */
  private String redact(String s) {
    return s == null || token.isEmpty() ? s : s.replace(token, "***");
  }

  // ---- payloads ----

  String createPayload() {
    var o = new JsonObject();
    o.addProperty("name", name);
    o.addProperty("organization", namespace);
    o.addProperty("type", "model");
    o.addProperty("private", privateRepo);
    return GSON.toJson(o);
  }

  /** The commit endpoint's NDJSON: a header line with the summary, then a line per file. */
  static String commitPayload(String summary, List<FileContent> files) {
    var lines = new ArrayList<String>();
    var header = new JsonObject();
    header.addProperty("key", "header");
    var value = new JsonObject();
    value.addProperty("summary", summary);
    value.addProperty("description", "");
    header.add("value", value);
    lines.add(GSON.toJson(header));
    for (FileContent f : files) {
      var line = new JsonObject();
      line.addProperty("key", "file");
      var v = new JsonObject();
      v.addProperty("content", Base64.getEncoder().encodeToString(f.bytes()));
      v.addProperty("path", f.path());
      v.addProperty("encoding", "base64");
      line.add("value", v);
      lines.add(GSON.toJson(line));
    }
    return String.join("\n", lines) + "\n";
  }

  private static String commitUrl(String body) {
    try {
      JsonElement e = JsonParser.parseString(body);
      if (e.isJsonObject() && e.getAsJsonObject().has("commitUrl")) {
        return e.getAsJsonObject().get("commitUrl").getAsString();
      }
    } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
      // Gson's getAs* throws UnsupportedOperationException/IllegalStateException for a value of
      // another JSON type. The commit was made; the Hub's answer is only informative.
    }
    return "(no commit URL in the Hub's answer)";
  }

  /** Every regular file under the folder, by path, with '/' separators as the repository has them. */
  static List<FileContent> read(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      throw new IOException("not a directory");
    }
    var out = new ArrayList<FileContent>();
    try (Stream<Path> s = Files.walk(folder)) {
      for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted(Comparator.comparing(Path::toString))::iterator) {
        String rel = folder.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
        out.add(new FileContent(rel, Files.readAllBytes(p)));
      }
    }
    return out;
  }

  /** Builds a {@link HubUploader}; every argument is checked when set, the token when built. */
  static final class Builder {
    private final String namespace;
    private final String name;
    private String token;
    private URI endpoint = DEFAULT_ENDPOINT;
    private String revision = "main";
    private boolean privateRepo = true;
    private int maxAttempts = 4;
    private Duration initialBackoff = Duration.ofSeconds(2);
    private Duration requestTimeout = Duration.ofMinutes(5);
    private Consumer<String> reporter;
    private HttpClient http;

    private Builder(String repoId, String token) {
      Objects.requireNonNull(repoId, "repoId");
      String[] parts = repoId.split("/", -1);
      if (parts.length != 2 || !NAME_PART.matcher(parts[0]).matches() || !NAME_PART.matcher(parts[1]).matches()
          || parts[1].endsWith(".git") || repoId.contains("..") || repoId.contains("--")) {
        throw new IllegalArgumentException("hub repository must be \"namespace/name\" (letters, digits, '-', '_', "
            + "'.'): \"" + repoId + "\"");
      }
      this.namespace = parts[0];
      this.name = parts[1];
      this.token = token;
    }

    /** The Hub's base URL (default https://huggingface.co); a mirror or a test server. */
    Builder endpoint(URI v) {
      Objects.requireNonNull(v, "endpoint");
      if (!("https".equals(v.getScheme()) || "http".equals(v.getScheme())) || v.getHost() == null) {
        throw new IllegalArgumentException("endpoint must be an http(s) URL: " + v);
      }
      endpoint = v;
      return this;
    }

    /** The token, instead of {@code HF_TOKEN}. */
    Builder token(String v) {
      token = v;
      return this;
    }

    /** The branch committed to (default "main"). */
    Builder revision(String v) {
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException("revision must not be blank: \"" + v + "\"");
      }
      revision = v;
      return this;
    }

    /** Whether a repository created by the uploader is private (default true). */
    Builder privateRepo(boolean v) {
      privateRepo = v;
      return this;
    }

    /** Attempts per upload, first included (default 4). */
    Builder maxAttempts(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1: " + v);
      }
      maxAttempts = v;
      return this;
    }

    /** The wait before the second attempt, doubled before each further one (default 2 s, at most 1 min). */
    Builder initialBackoff(Duration v) {
      if (v == null || v.isNegative()) {
        throw new IllegalArgumentException("initialBackoff must be >= 0: " + v);
      }
      initialBackoff = v;
      return this;
    }

    /** The time limit of one HTTP request (default 5 min). */
    Builder requestTimeout(Duration v) {
      if (v == null || v.isNegative() || v.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be > 0: " + v);
      }
      requestTimeout = v;
      return this;
    }

    /** Receives each report line instead of the log (the token is already removed). */
    Builder reporter(Consumer<String> v) {
      reporter = Objects.requireNonNull(v, "reporter");
      return this;
    }

    Builder httpClient(HttpClient v) {
      http = Objects.requireNonNull(v, "httpClient");
      return this;
    }

    /** The uploader; fails when there is no token, before any training starts. */
    HubUploader build() {
      if (token == null || token.isBlank()) {
        throw new IllegalArgumentException(TOKEN_ENV + " is not set; uploading to the Hub needs a token with "
            + "write access (https://huggingface.co/settings/tokens)");
      }
      return new HubUploader(this);
    }
  }
}
