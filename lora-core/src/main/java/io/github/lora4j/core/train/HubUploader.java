package io.github.lora4j.core.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes files to a Hugging Face Hub model repository in one commit through the Hub's HTTP API, as
 * huggingface_hub's {@code upload_folder} does over plain LFS (without Xet):
 *
 * <ol>
 *   <li>{@code POST /api/repos/create}: the repository, private unless asked otherwise (409: it is
 *       there already);
 *   <li>{@code POST /api/models/{repo}/preupload/{revision}}: from each file's size and first 512
 *       bytes the Hub decides whether it goes up inline ("regular") or through LFS ("lfs"), and
 *       which files its .gitignore skips. An empty file always goes inline (storage refuses empty
 *       objects);
 *   <li>{@code POST /{repo}.git/info/lfs/objects/batch} with each LFS file's sha256 and size: the
 *       Hub answers with an upload action for every object it does not hold yet, either one PUT of
 *       the whole file ("basic") or, when the action's header carries a {@code chunk_size}, a PUT
 *       of each chunk to the numbered part URLs and a completion POST listing the parts' ETags
 *       ("multipart"); then the optional verify action;
 *   <li>{@code POST /api/models/{repo}/commit/{revision}}, an NDJSON body: a header line, then
 *       regular files inline in base64 and LFS files as {@code lfsFile} entries (sha256 oid and
 *       size).
 * </ol>
 *
 * <p>Uploads never throw into the training loop: a failed attempt (network error, HTTP 5xx, 408 or
 * 429, at any of the steps) is retried as a whole with exponential backoff up to {@code
 * maxAttempts} (objects that reached storage are not sent again: the batch answer then has no
 * action for them), each failure is reported (a log line, or the given reporter), and the outcome
 * comes back as a {@link Result}. A refused token or another client error is not retried. The
 * token is sent only to the Hub, never to the storage URLs of an upload action, and never appears
 * in a report.
 */
final class HubUploader {

  static final URI DEFAULT_ENDPOINT = HubSettings.DEFAULT_ENDPOINT;
  static final String TOKEN_ENV = HubSettings.TOKEN_ENV;
  /** huggingface_hub sends the first 512 bytes of each file to the preupload endpoint. */
  static final int SAMPLE_BYTES = 512;
  /** Files per preupload or LFS batch request, as huggingface_hub sends them. */
  static final int BATCH_FILES = 256;
  static final String LFS_JSON = "application/vnd.git-lfs+json";

  private static final Logger LOG = LoggerFactory.getLogger(HubUploader.class);
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

  /**
   * The outcome of one upload.
   *
   * @param ok whether the commit was made
   * @param attempts how many attempts it took (0 when there was nothing to send)
   * @param files how many files the commit holds
   * @param lfsFiles how many of them went through LFS
   * @param commitUrl the commit's URL as the Hub gave it, or null
   * @param error why it failed, or null
   */
  record Result(boolean ok, int attempts, int files, int lfsFiles, String commitUrl, String error) {}

  /** A file of the commit: its path in the repository and the local file that holds its bytes. */
  record RepoFile(String path, Path source) {
    RepoFile {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(source, "source");
      if (path.isEmpty() || path.startsWith("/") || path.equals("..") || path.startsWith("../") || path.contains("/../")) {
        throw new IllegalArgumentException("path in the repository must be relative and stay inside it: \"" + path + "\"");
      }
    }
  }

  private enum Mode { REGULAR, LFS, IGNORED }

  /** A file with its size, first bytes and, once an LFS upload needs it, its sha256. */
  private static final class Described {
    final RepoFile file;
    final long size;
    final byte[] sample;
    String sha256;

    Described(RepoFile file, long size, byte[] sample) {
      this.file = file;
      this.size = size;
      this.sample = sample;
    }

    String sha256() throws IOException {
      if (sha256 == null) {
        sha256 = HubUploader.sha256(file.source());
      }
      return sha256;
    }
  }

  /** Why an attempt failed, and whether another one may succeed. */
  private static final class HubException extends Exception {
    final boolean retryable;
    final Duration retryAfter;

    HubException(String message, boolean retryable, Duration retryAfter) {
      super(message);
      this.retryable = retryable;
      this.retryAfter = retryAfter;
    }
  }

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
        : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).followRedirects(HttpClient.Redirect.NORMAL).build();
    this.token = b.token;
  }

  /** A builder for {@code repoId} ("namespace/name") with the token from {@code HF_TOKEN}. */
  static Builder builder(String repoId) {
    return builder(repoId, System.getenv());
  }

  static Builder builder(String repoId, Map<String, String> environment) {
    return new Builder(repoId, environment.get(TOKEN_ENV));
  }

  /** A builder for the repository, endpoint, privacy and token of {@code settings}. */
  static Builder builder(HubSettings settings) {
    return new Builder(settings.repoId(), settings.token()).endpoint(settings.endpoint()).privateRepo(settings.privateRepo());
  }

  String repoId() {
    return namespace + "/" + name;
  }

  @Override
  public String toString() {
    return "HubUploader[" + endpoint + "/" + repoId() + "@" + revision + "]";
  }

  /** Uploads every file under {@code folder}, at the same paths in the repository, as one commit; never throws. */
  Result upload(Path folder, String summary) {
    List<RepoFile> files;
    try {
      files = list(folder, "");
    } catch (IOException | RuntimeException e) {
      return fail(0, 0, "cannot read " + folder + ": " + e.getMessage());
    }
    return upload(files, summary);
  }

  /** Uploads {@code files} as one commit with {@code summary}; never throws. */
  Result upload(List<RepoFile> files, String summary) {
    if (files.isEmpty()) {
      return fail(0, 0, "nothing to upload: the folder holds no files");
    }
    List<Described> described = new ArrayList<>();
    try {
      for (RepoFile f : files) {
        described.add(describe(f));
      }
    } catch (IOException | RuntimeException e) {
      return fail(0, files.size(), "cannot read " + (described.size() < files.size() ? files.get(described.size()).source() : "the files") + ": " + e.getMessage());
    }
    for (int attempt = 1; ; attempt++) {
      String error;
      boolean retryable;
      Duration retryAfter = null;
      try {
        Result r = attempt(described, summary, attempt);
        report(false, "uploaded " + r.files() + " file(s) (" + r.lfsFiles() + " through LFS) to " + repoId() + " at " + revision + ": " + r.commitUrl());
        return r;
      } catch (HubException e) {
        error = e.getMessage();
        retryable = e.retryable;
        retryAfter = e.retryAfter;
      } catch (IOException e) {
        error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        retryable = true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail(attempt, files.size(), "interrupted");
      } catch (RuntimeException e) {
        error = e.toString();
        retryable = true;
      }
      error = redact(error);
      if (!retryable || attempt == maxAttempts) {
        return fail(attempt, files.size(), error);
      }
      Duration wait = backoff(attempt, retryAfter);
      report(true, "hub upload to " + repoId() + ": attempt " + attempt + " of " + maxAttempts + " failed (" + error + "); retrying in " + wait.toMillis() + " ms");
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail(attempt, files.size(), "interrupted while waiting to retry; last error: " + error);
      }
    }
  }

  private Result attempt(List<Described> files, String summary, int attempt) throws HubException, IOException, InterruptedException {
    if (!repoExists) {
      HttpResponse<String> r = send(HttpRequest.newBuilder(hub("/api/repos/create")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(createPayload(), StandardCharsets.UTF_8)), true);
      // 409: the repository is there already, which is what we want.
      if (r.statusCode() != 409) {
        check(r, "creating the repository", true);
      }
      repoExists = true;
    }
    Map<String, Mode> modes = preupload(files);
    List<Described> lfs = files.stream().filter(f -> modes.get(f.file.path()) == Mode.LFS).toList();
    uploadLfs(lfs);
    HttpResponse<String> r = send(HttpRequest.newBuilder(hub(repoApi("commit"))).header("Content-Type", "application/x-ndjson")
        .POST(HttpRequest.BodyPublishers.ofString(commitPayload(summary, files, modes), StandardCharsets.UTF_8)), true);
    if (r.statusCode() == 404) {
      repoExists = false; // deleted meanwhile: create it again on the next attempt
    }
    check(r, "committing", true);
    int committed = (int) files.stream().filter(f -> modes.get(f.file.path()) != Mode.IGNORED).count();
    return new Result(true, attempt, committed, lfs.size(), commitUrl(r.body()), null);
  }

  // ---- 1. preupload: regular or LFS ----

  private Map<String, Mode> preupload(List<Described> files) throws HubException, IOException, InterruptedException {
    Map<String, Mode> modes = new HashMap<>();
    for (int from = 0; from < files.size(); from += BATCH_FILES) {
      List<Described> batch = files.subList(from, Math.min(files.size(), from + BATCH_FILES));
      var list = new JsonArray();
      for (Described f : batch) {
        var o = new JsonObject();
        o.addProperty("path", f.file.path());
        o.addProperty("sample", Base64.getEncoder().encodeToString(f.sample));
        o.addProperty("size", f.size);
        list.add(o);
      }
      var payload = new JsonObject();
      payload.add("files", list);
      HttpResponse<String> r = send(HttpRequest.newBuilder(hub(repoApi("preupload"))).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(GSON.toJson(payload), StandardCharsets.UTF_8)), true);
      check(r, "asking which files go through LFS (preupload)", true);
      JsonArray answer = array(object(r.body(), "preupload"), "files");
      if (answer == null) {
        throw malformed("preupload", r.body());
      }
      for (JsonElement e : answer) {
        JsonObject o = e.isJsonObject() ? e.getAsJsonObject() : null;
        String path = o == null ? null : text(o, "path");
        String mode = o == null ? null : text(o, "uploadMode");
        if (path == null || !("lfs".equals(mode) || "regular".equals(mode))) {
          throw malformed("preupload", r.body());
        }
        boolean ignore = o.get("shouldIgnore") instanceof JsonPrimitive p && p.isBoolean() && p.getAsBoolean();
        modes.put(path, ignore ? Mode.IGNORED : mode.equals("lfs") ? Mode.LFS : Mode.REGULAR);
      }
    }
    for (Described f : files) {
      Mode m = modes.get(f.file.path());
      if (m == null) {
        throw new HubException("the Hub's preupload answer does not mention " + f.file.path(), false, null);
      }
      if (m == Mode.LFS && f.size == 0) {
        modes.put(f.file.path(), Mode.REGULAR); // storage refuses empty objects; huggingface_hub commits them inline too
      }
    }
    return modes;
  }

  // ---- 2. LFS: batch, then basic or multipart uploads, then verify ----

  private void uploadLfs(List<Described> files) throws HubException, IOException, InterruptedException {
    // Two files with the same bytes are one object.
    Map<String, Described> byOid = new LinkedHashMap<>();
    for (Described f : files) {
      byOid.putIfAbsent(f.sha256(), f);
    }
    List<Described> objects = List.copyOf(byOid.values());
    for (int from = 0; from < objects.size(); from += BATCH_FILES) {
      List<Described> batch = objects.subList(from, Math.min(objects.size(), from + BATCH_FILES));
      var list = new JsonArray();
      for (Described f : batch) {
        var o = new JsonObject();
        o.addProperty("oid", f.sha256());
        o.addProperty("size", f.size);
        list.add(o);
      }
      var payload = new JsonObject();
      payload.addProperty("operation", "upload");
      var transfers = new JsonArray();
      transfers.add("basic");
      transfers.add("multipart");
      payload.add("transfers", transfers);
      payload.add("objects", list);
      payload.addProperty("hash_algo", "sha256");
      var ref = new JsonObject();
      ref.addProperty("name", revision);
      payload.add("ref", ref);
      HttpResponse<String> r = send(HttpRequest.newBuilder(hub("/" + namespace + "/" + name + ".git/info/lfs/objects/batch"))
          .header("Accept", LFS_JSON).header("Content-Type", LFS_JSON)
          .POST(HttpRequest.BodyPublishers.ofString(GSON.toJson(payload), StandardCharsets.UTF_8)), true);
      check(r, "asking where to upload the LFS files (batch)", true);
      JsonObject answer = object(r.body(), "the LFS batch request");
      String transfer = text(answer, "transfer");
      if (transfer != null && !transfer.equals("basic") && !transfer.equals("multipart")) {
        throw new HubException("the Hub chose the LFS transfer '" + transfer + "', which lora4j does not speak (it asked for basic or multipart)", false, null);
      }
      JsonArray answered = array(answer, "objects");
      if (answered == null) {
        throw malformed("the LFS batch request", r.body());
      }
      for (JsonElement e : answered) {
        JsonObject o = e.isJsonObject() ? e.getAsJsonObject() : null;
        Described f = o == null ? null : byOid.get(text(o, "oid"));
        if (f == null) {
          throw malformed("the LFS batch request", r.body());
        }
        uploadObject(f, o);
      }
    }
  }

  private void uploadObject(Described f, JsonObject batchAnswer) throws HubException, IOException, InterruptedException {
    String path = f.file.path();
    JsonObject error = child(batchAnswer, "error");
    if (error != null) {
      long code = number(error, "code", 0);
      throw new HubException("the LFS batch refused " + path + ": " + text(error, "message") + " (code " + code + ")", code >= 500, null);
    }
    JsonObject actions = child(batchAnswer, "actions");
    if (actions == null || child(actions, "upload") == null) {
      return; // the Hub holds these bytes already
    }
    JsonObject upload = child(actions, "upload");
    String href = text(upload, "href");
    if (href == null) {
      throw malformed("the LFS batch request (upload action of " + path + ")", batchAnswer.toString());
    }
    JsonObject header = child(upload, "header");
    String chunkSize = header == null ? null : text(header, "chunk_size");
    if (chunkSize == null && header != null && header.get("chunk_size") != null) {
      throw malformed("the LFS batch request (chunk_size of " + path + " must be a string)", batchAnswer.toString());
    }
    if (chunkSize != null) {
      multipart(f, href, header, chunkSize);
    } else {
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(href)).PUT(HttpRequest.BodyPublishers.ofFile(f.file.source())), false);
      check(r, "uploading " + path + " to LFS storage", false);
    }
    JsonObject verify = child(actions, "verify");
    if (verify != null && text(verify, "href") != null) {
      URI uri = URI.create(text(verify, "href"));
      var body = new JsonObject();
      body.addProperty("oid", f.sha256());
      body.addProperty("size", f.size);
      HttpResponse<String> r = send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(GSON.toJson(body), StandardCharsets.UTF_8)), sameOrigin(uri));
      check(r, "verifying the LFS upload of " + path, sameOrigin(uri));
    }
  }

  private void multipart(Described f, String completionHref, JsonObject header, String chunkSizeText) throws HubException, IOException, InterruptedException {
    String path = f.file.path();
    long chunk;
    try {
      chunk = Long.parseLong(chunkSizeText.strip());
    } catch (NumberFormatException e) {
      chunk = 0;
    }
    if (chunk <= 0) {
      throw new HubException("the LFS batch answer for " + path + " has chunk_size '" + chunkSizeText + "', not a positive number", false, null);
    }
    // The part URLs are the header's numbered keys, in the order of their numbers.
    var parts = new TreeMap<Integer, String>();
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      if (e.getKey().matches("\\d{1,9}") && e.getValue() instanceof JsonPrimitive p && p.isString()) {
        parts.put(Integer.parseInt(e.getKey()), p.getAsString());
      }
    }
    long expected = (f.size + chunk - 1) / chunk;
    if (parts.size() != expected) {
      throw new HubException("the LFS batch answer for " + path + " has " + parts.size() + " part URL(s); " + f.size + " bytes in chunks of " + chunk + " need " + expected, false, null);
    }
    var done = new JsonArray();
    int number = 1;
    for (String url : parts.values()) {
      long offset = (number - 1) * chunk;
      long length = Math.min(chunk, f.size - offset);
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url)).PUT(slice(f.file.source(), offset, length)), false);
      check(r, "uploading part " + number + " of " + parts.size() + " of " + path + " to LFS storage", false);
      String etag = r.headers().firstValue("ETag").orElse("");
      if (etag.isEmpty()) {
        throw new HubException("LFS storage gave no ETag for part " + number + " of " + path, true, null);
      }
      var part = new JsonObject();
      part.addProperty("partNumber", number);
      part.addProperty("etag", etag);
      done.add(part);
      number++;
    }
    var completion = new JsonObject();
    completion.addProperty("oid", f.sha256());
    completion.add("parts", done);
    // The completion URL is signed; huggingface_hub sends it no token either.
    HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(completionHref)).header("Accept", LFS_JSON).header("Content-Type", LFS_JSON)
        .POST(HttpRequest.BodyPublishers.ofString(GSON.toJson(completion), StandardCharsets.UTF_8)), false);
    check(r, "completing the multipart upload of " + path, false);
  }

  // ---- 3. the commit ----

  private String commitPayload(String summary, List<Described> files, Map<String, Mode> modes) throws IOException {
    var lines = new ArrayList<String>();
    var header = new JsonObject();
    header.addProperty("key", "header");
    var value = new JsonObject();
    value.addProperty("summary", summary);
    value.addProperty("description", "");
    header.add("value", value);
    lines.add(GSON.toJson(header));
    for (Described f : files) {
      Mode mode = modes.get(f.file.path());
      if (mode == Mode.IGNORED) {
        continue;
      }
      var line = new JsonObject();
      var v = new JsonObject();
      if (mode == Mode.LFS) {
        line.addProperty("key", "lfsFile");
        v.addProperty("path", f.file.path());
        v.addProperty("algo", "sha256");
        v.addProperty("oid", f.sha256());
        v.addProperty("size", f.size);
      } else {
        line.addProperty("key", "file");
        v.addProperty("content", Base64.getEncoder().encodeToString(Files.readAllBytes(f.file.source())));
        v.addProperty("path", f.file.path());
        v.addProperty("encoding", "base64");
      }
      line.add("value", v);
      lines.add(GSON.toJson(line));
    }
    return String.join("\n", lines) + "\n";
  }

  String createPayload() {
    var o = new JsonObject();
    o.addProperty("name", name);
    o.addProperty("organization", namespace);
    o.addProperty("type", "model");
    o.addProperty("private", privateRepo);
    return GSON.toJson(o);
  }

  private static String commitUrl(String body) {
    try {
      JsonElement e = JsonParser.parseString(body);
      if (e.isJsonObject() && text(e.getAsJsonObject(), "commitUrl") != null) {
        return text(e.getAsJsonObject(), "commitUrl");
      }
    } catch (JsonParseException e) {
      // The commit was made; the Hub's answer is only informative.
    }
    return "(no commit URL in the Hub's answer)";
  }

  // ---- HTTP ----

  /** A URL on the Hub; keeps a path the endpoint has (a mirror under /hub/). */
  private URI hub(String path) {
    String base = endpoint.toString();
    return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path);
  }

  private String repoApi(String action) {
    return "/api/models/" + namespace + "/" + name + "/" + action + "/" + URLEncoder.encode(revision, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** Whether {@code uri} is on the Hub itself, so that it may see the token. */
  private boolean sameOrigin(URI uri) {
    return Objects.equals(uri.getScheme(), endpoint.getScheme()) && Objects.equals(uri.getHost(), endpoint.getHost())
        && port(uri) == port(endpoint);
  }

  private static int port(URI u) {
    return u.getPort() != -1 ? u.getPort() : "https".equals(u.getScheme()) ? 443 : 80;
  }

  private HttpResponse<String> send(HttpRequest.Builder request, boolean withToken) throws IOException, InterruptedException {
    request.timeout(requestTimeout);
    if (withToken) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private void check(HttpResponse<String> r, String what, boolean hub) throws HubException {
    int code = r.statusCode();
    if (code / 100 == 2) {
      return;
    }
    boolean retryable = code >= 500 || code == 408 || code == 429;
    String hint = hub && (code == 401 || code == 403)
        ? "; the Hub refused the token: check that " + TOKEN_ENV + " is set to a token with write access to " + repoId() : "";
    String body = r.body() == null ? "" : r.body().strip();
    if (body.length() > 300) {
      body = body.substring(0, 300) + "...";
    }
    Duration retryAfter = r.headers().firstValue("Retry-After").flatMap(HubUploader::seconds).orElse(null);
    throw new HubException(what + ": HTTP " + code + (body.isEmpty() ? "" : " " + body) + hint, retryable, retryAfter);
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

  /** Bytes {@code [offset, offset + length)} of a file, with the length declared up front: storage refuses a chunked PUT. */
  private static HttpRequest.BodyPublisher slice(Path file, long offset, long length) {
    return HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
      try {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        ch.position(offset);
        return new Slice(Channels.newInputStream(ch), length);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }), length);
  }

  /** An input stream that ends after {@code remaining} bytes. */
  private static final class Slice extends InputStream {
    private final InputStream in;
    private long remaining;

    Slice(InputStream in, long remaining) {
      this.in = in;
      this.remaining = remaining;
    }

    @Override
    public int read() throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int b = in.read();
      if (b >= 0) {
        remaining--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, remaining));
      if (n > 0) {
        remaining -= n;
      }
      return n;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  // ---- JSON answers ----

  private static JsonObject object(String body, String what) throws HubException {
    try {
      JsonElement e = JsonParser.parseString(body);
      if (e.isJsonObject()) {
        return e.getAsJsonObject();
      }
    } catch (JsonParseException e) {
      // not JSON: reported as malformed below
    }
    throw malformed(what, body);
  }

  private static HubException malformed(String what, String body) {
    String b = body == null ? "" : body.strip();
    return new HubException("malformed answer to " + what + ": " + (b.length() > 300 ? b.substring(0, 300) + "..." : b), false, null);
  }

  private static String text(JsonObject o, String key) {
    return o.get(key) instanceof JsonPrimitive p && p.isString() ? p.getAsString() : null;
  }

  private static long number(JsonObject o, String key, long orElse) {
    return o.get(key) instanceof JsonPrimitive p && p.isNumber() ? p.getAsLong() : orElse;
  }

  private static JsonObject child(JsonObject o, String key) {
    return o.get(key) instanceof JsonObject c ? c : null;
  }

  private static JsonArray array(JsonObject o, String key) {
    return o.get(key) instanceof JsonArray a ? a : null;
  }

  // ---- reports ----

  private Result fail(int attempts, int files, String error) {
    report(true, "hub upload to " + repoId() + " failed" + (attempts > 0 ? " after " + attempts + " attempt(s)" : "") + ": " + error + "; training goes on");
    return new Result(false, attempts, files, 0, null, error);
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

  // ---- files ----

  private static Described describe(RepoFile f) throws IOException {
    long size = Files.size(f.source());
    byte[] sample;
    try (InputStream in = Files.newInputStream(f.source())) {
      sample = in.readNBytes(SAMPLE_BYTES);
    }
    return new Described(f, size, sample);
  }

  /** The sha256 of a file in lowercase hex: the oid LFS knows it by. */
  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * Every regular file under {@code folder}, sorted by path, at {@code prefix} + its relative path
   * with '/' separators, as the repository has them.
   */
  static List<RepoFile> list(Path folder, String prefix) throws IOException {
    if (!Files.isDirectory(folder)) {
      throw new IOException("not a directory");
    }
    var out = new ArrayList<RepoFile>();
    try (Stream<Path> s = Files.walk(folder)) {
      for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted(Comparator.comparing(Path::toString))::iterator) {
        String rel = folder.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
        out.add(new RepoFile(prefix + rel, p));
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
      String[] parts = HubSettings.checkRepoId(repoId).split("/");
      this.namespace = parts[0];
      this.name = parts[1];
      this.token = token;
    }

    /** The Hub's base URL (default https://huggingface.co); a mirror or a test server. */
    Builder endpoint(URI v) {
      endpoint = HubSettings.checkEndpoint("endpoint", v);
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
        throw new IllegalArgumentException(TOKEN_ENV + " is not set; uploading to the Hub needs a token with write access (https://huggingface.co/settings/tokens)");
      }
      return new HubUploader(this);
    }
  }
}
