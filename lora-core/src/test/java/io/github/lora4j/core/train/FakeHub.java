package io.github.lora4j.core.train;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1 that implements the endpoints {@link
 * HubUploader} uses, with the Hub's answers: repository creation, preupload, the LFS batch API with
 * basic and multipart upload actions, storage (PUT, parts with ETags, completion) that checks each
 * object's sha256 and size, verify, and the NDJSON commit, which it applies to an in-memory tree so
 * a test can compare the repository's bytes with the local files. It checks the token on every Hub
 * endpoint and refuses it at storage, as presigned storage URLs do.
 */
public final class FakeHub implements AutoCloseable {

  /** The token the Hub accepts. */
  public static final String TOKEN = "hf_testTOKEN0123456789";

  private final HttpServer server;
  /** Repositories that exist, "namespace/name". */
  public final Set<String> repos = ConcurrentHashMap.newKeySet();
  /** The bodies of repository creations. */
  public final List<JsonObject> creates = new CopyOnWriteArrayList<>();
  /** "METHOD path" of every request, in order. */
  public final List<String> requests = new CopyOnWriteArrayList<>();
  public final List<String> commitPaths = new CopyOnWriteArrayList<>();
  public final List<String> commitBodies = new CopyOnWriteArrayList<>();
  public final List<String> contentTypes = new CopyOnWriteArrayList<>();
  /** The LFS objects storage holds, by sha256. */
  public final Map<String, byte[]> objects = new ConcurrentHashMap<>();
  /** Oids the verify endpoint confirmed. */
  public final List<String> verified = new CopyOnWriteArrayList<>();
  /** Authorization headers that reached storage (the token must never get there). */
  public final List<String> storageAuthorizations = new CopyOnWriteArrayList<>();
  /** PUTs storage accepted (whole objects and parts). */
  public final AtomicInteger storagePuts = new AtomicInteger();
  /** Paths the preupload answer marks shouldIgnore. */
  public final Set<String> ignored = ConcurrentHashMap.newKeySet();
  /** Commits fail with {@link #failureStatus} while this is positive. */
  public final AtomicInteger commitFailuresLeft = new AtomicInteger();
  /** Storage PUTs fail with {@link #failureStatus} while this is positive. */
  public final AtomicInteger storageFailuresLeft = new AtomicInteger();
  public volatile int failureStatus = 500;
  public volatile String failureBody = "{\"error\":\"Internal Error\"}";
  /** Files of at least this size go through LFS; *.safetensors always do, as the Hub's default .gitattributes says. */
  public volatile long lfsThreshold = 10L << 20;
  /** Objects larger than this get a multipart upload action. */
  public volatile long multipartThreshold = Long.MAX_VALUE;
  public volatile long chunkSize = 1000;
  public volatile boolean verifyAction = true;
  /** The batch answers each object with this error, when set. */
  public volatile String batchError;
  /** When set, a commit waits until it opens (at most a minute): an upload that takes its time. */
  public volatile CountDownLatch commitGate;

  private final Map<String, Map<String, byte[]>> trees = new ConcurrentHashMap<>();
  private final Map<String, Long> announced = new ConcurrentHashMap<>();
  private final Map<String, Map<Integer, byte[]>> parts = new ConcurrentHashMap<>();
  private final Map<String, Map<Integer, String>> etags = new ConcurrentHashMap<>();

  public FakeHub() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/api/repos/create", x -> handle(x, this::create));
    server.createContext("/api/models/", x -> handle(x, this::repoApi));
    server.createContext("/storage/", x -> handle(x, this::storage));
    server.createContext("/", x -> handle(x, this::lfs));
    server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()); // a gated commit does not hold up other requests
    server.start();
  }

  public URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** The repository's files after the commits so far, by path. */
  public Map<String, byte[]> tree(String repoId) {
    return new TreeMap<>(trees.getOrDefault(repoId, Map.of()));
  }

  /** Stops the server; later requests fail to connect. */
  public void stop() {
    server.stop(0);
  }

  @Override
  public void close() {
    stop();
  }

  @FunctionalInterface
  private interface Handler {
    void handle(HttpExchange x, byte[] body) throws IOException;
  }

  private void handle(HttpExchange x, Handler h) throws IOException {
    try {
      requests.add(x.getRequestMethod() + " " + x.getRequestURI().getRawPath());
      h.handle(x, x.getRequestBody().readAllBytes());
    } catch (RuntimeException e) {
      if (x.getResponseCode() == -1) {
        respond(x, 500, "{\"error\":\"fake hub: " + e + "\"}");
      }
    } finally {
      x.close();
    }
  }

  private boolean authorized(HttpExchange x) throws IOException {
    if (!("Bearer " + TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
      respond(x, 401, "{\"error\":\"Invalid credentials in Authorization header\"}");
      return false;
    }
    return true;
  }

  private void create(HttpExchange x, byte[] raw) throws IOException {
    if (!x.getRequestMethod().equals("POST")) {
      respond(x, 405, "");
      return;
    }
    if (!authorized(x)) {
      return;
    }
    JsonObject body = json(raw).getAsJsonObject();
    creates.add(body);
    String id = body.get("organization").getAsString() + "/" + body.get("name").getAsString();
    if (!repos.add(id)) {
      respond(x, 409, "{\"error\":\"You already created this model repo\",\"url\":\"" + uri() + "/" + id + "\"}");
    } else {
      respond(x, 200, "{\"url\":\"" + uri() + "/" + id + "\"}");
    }
  }

  /** /api/models/{namespace}/{name}/{preupload|commit}/{revision}. */
  private void repoApi(HttpExchange x, byte[] raw) throws IOException {
    String[] p = x.getRequestURI().getRawPath().substring("/api/models/".length()).split("/", 4);
    if (!x.getRequestMethod().equals("POST") || p.length != 4) {
      respond(x, 405, "");
      return;
    }
    if (!authorized(x)) {
      return;
    }
    String repo = p[0] + "/" + p[1];
    if (!repos.contains(repo)) {
      respond(x, 404, "{\"error\":\"Repository not found\"}");
      return;
    }
    switch (p[2]) {
      case "preupload" -> preupload(x, raw);
      case "commit" -> commit(x, raw, repo);
      default -> respond(x, 404, "");
    }
  }

  private void preupload(HttpExchange x, byte[] raw) throws IOException {
    var answer = new JsonArray();
    for (JsonElement e : json(raw).getAsJsonObject().getAsJsonArray("files")) {
      JsonObject f = e.getAsJsonObject();
      String path = f.get("path").getAsString();
      long size = f.get("size").getAsLong();
      byte[] sample = Base64.getDecoder().decode(f.get("sample").getAsString());
      if (sample.length > 512 || sample.length > size) {
        respond(x, 400, "{\"error\":\"sample of " + path + " has " + sample.length + " bytes\"}");
        return;
      }
      var o = new JsonObject();
      o.addProperty("path", path);
      o.addProperty("uploadMode", path.endsWith(".safetensors") || size >= lfsThreshold ? "lfs" : "regular");
      o.addProperty("shouldIgnore", ignored.contains(path));
      answer.add(o);
    }
    var body = new JsonObject();
    body.add("files", answer);
    respond(x, 200, body.toString());
  }

  private void commit(HttpExchange x, byte[] raw, String repo) throws IOException {
    CountDownLatch gate = commitGate;
    if (gate != null) {
      try {
        gate.await(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    commitPaths.add(x.getRequestURI().getRawPath());
    contentTypes.add(x.getRequestHeaders().getFirst("Content-Type"));
    String ndjson = new String(raw, StandardCharsets.UTF_8);
    commitBodies.add(ndjson);
    if (commitFailuresLeft.getAndDecrement() > 0) {
      respond(x, failureStatus, failureBody);
      return;
    }
    Map<String, byte[]> changes = new HashMap<>();
    String[] lines = ndjson.split("\n");
    if (!json(lines[0].getBytes(StandardCharsets.UTF_8)).getAsJsonObject().get("key").getAsString().equals("header")) {
      respond(x, 400, "{\"error\":\"the first line must be the header\"}");
      return;
    }
    for (int i = 1; i < lines.length; i++) {
      JsonObject line = json(lines[i].getBytes(StandardCharsets.UTF_8)).getAsJsonObject();
      JsonObject v = line.getAsJsonObject("value");
      String path = v.get("path").getAsString();
      switch (line.get("key").getAsString()) {
        case "file" -> changes.put(path, Base64.getDecoder().decode(v.get("content").getAsString()));
        case "lfsFile" -> {
          byte[] object = objects.get(v.get("oid").getAsString());
          if (!v.get("algo").getAsString().equals("sha256") || object == null || object.length != v.get("size").getAsLong()) {
            respond(x, 422, "{\"error\":\"LFS pointer pointed to a file that does not exist: " + path + "\"}");
            return;
          }
          changes.put(path, object);
        }
        default -> {
          respond(x, 400, "{\"error\":\"unknown key " + line.get("key") + "\"}");
          return;
        }
      }
    }
    trees.computeIfAbsent(repo, r -> new ConcurrentHashMap<>()).putAll(changes);
    respond(x, 200, "{\"success\":true,\"commitOid\":\"0123abcd\",\"commitUrl\":\"" + uri() + "/" + repo + "/commit/0123abcd\"}");
  }

  /** /{namespace}/{name}.git/info/lfs/objects/{batch|verify}. */
  private void lfs(HttpExchange x, byte[] raw) throws IOException {
    String path = x.getRequestURI().getRawPath();
    int git = path.indexOf(".git/info/lfs/objects/");
    if (git < 0 || !x.getRequestMethod().equals("POST")) {
      respond(x, 404, "");
      return;
    }
    if (!authorized(x)) {
      return;
    }
    String repo = path.substring(1, git);
    String action = path.substring(git + ".git/info/lfs/objects/".length());
    if (action.equals("verify")) {
      JsonObject o = json(raw).getAsJsonObject();
      byte[] object = objects.get(o.get("oid").getAsString());
      if (object == null || object.length != o.get("size").getAsLong()) {
        respond(x, 404, "{\"error\":\"object not found\"}");
        return;
      }
      verified.add(o.get("oid").getAsString());
      respond(x, 200, "{\"success\":true}");
      return;
    }
    if (!action.equals("batch") || !repos.contains(repo)) {
      respond(x, 404, "{\"error\":\"Repository not found\"}");
      return;
    }
    if (!HubUploader.LFS_JSON.equals(x.getRequestHeaders().getFirst("Accept"))
        || !HubUploader.LFS_JSON.equals(x.getRequestHeaders().getFirst("Content-Type"))) {
      respond(x, 406, "{\"message\":\"Accept and Content-Type must be " + HubUploader.LFS_JSON + "\"}");
      return;
    }
    JsonObject request = json(raw).getAsJsonObject();
    if (!request.get("operation").getAsString().equals("upload") || !request.get("hash_algo").getAsString().equals("sha256")
        || !request.getAsJsonArray("transfers").toString().contains("\"basic\"")) {
      respond(x, 422, "{\"message\":\"unsupported batch request\"}");
      return;
    }
    var answered = new JsonArray();
    for (JsonElement e : request.getAsJsonArray("objects")) {
      String oid = e.getAsJsonObject().get("oid").getAsString();
      long size = e.getAsJsonObject().get("size").getAsLong();
      var o = new JsonObject();
      o.addProperty("oid", oid);
      o.addProperty("size", size);
      if (batchError != null) {
        var error = new JsonObject();
        error.addProperty("code", 422);
        error.addProperty("message", batchError);
        o.add("error", error);
      } else if (!objects.containsKey(oid)) {
        announced.put(oid, size);
        var upload = new JsonObject();
        if (size > multipartThreshold) {
          var header = new JsonObject();
          header.addProperty("chunk_size", Long.toString(chunkSize));
          for (long n = 1; (n - 1) * chunkSize < size; n++) {
            header.addProperty(String.format("%05d", n), uri() + "/storage/" + oid + "/" + n + "?X-Amz-Signature=sig");
          }
          upload.add("header", header);
          upload.addProperty("href", uri() + "/storage/" + oid + "/complete?signature=sig");
        } else {
          upload.addProperty("href", uri() + "/storage/" + oid + "?X-Amz-Signature=sig");
        }
        var actions = new JsonObject();
        actions.add("upload", upload);
        if (verifyAction) {
          var verify = new JsonObject();
          verify.addProperty("href", uri() + "/" + repo + ".git/info/lfs/objects/verify");
          actions.add("verify", verify);
        }
        o.add("actions", actions);
      }
      answered.add(o);
    }
    var body = new JsonObject();
    body.addProperty("transfer", "basic");
    body.add("objects", answered);
    respond(x, 200, body.toString());
  }

  /** PUT /storage/{oid}, PUT /storage/{oid}/{part}, POST /storage/{oid}/complete. */
  private void storage(HttpExchange x, byte[] raw) throws IOException {
    String auth = x.getRequestHeaders().getFirst("Authorization");
    if (auth != null) {
      storageAuthorizations.add(auth);
      respond(x, 400, "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>");
      return;
    }
    String[] p = x.getRequestURI().getRawPath().substring("/storage/".length()).split("/");
    String oid = p[0];
    Long size = announced.get(oid);
    if (size == null) {
      respond(x, 403, "<Error><Code>AccessDenied</Code></Error>");
      return;
    }
    if (x.getRequestMethod().equals("PUT")) {
      // S3 needs the length up front: a chunked PUT is refused.
      if (x.getRequestHeaders().getFirst("Content-Length") == null) {
        respond(x, 411, "<Error><Code>MissingContentLength</Code></Error>");
        return;
      }
      if (storageFailuresLeft.getAndDecrement() > 0) {
        respond(x, failureStatus, failureBody);
        return;
      }
      storagePuts.incrementAndGet();
      if (p.length == 1) {
        if (raw.length != size || !sha256(raw).equals(oid)) {
          respond(x, 400, "<Error><Code>BadDigest</Code></Error>");
          return;
        }
        objects.put(oid, raw);
        respond(x, 200, "");
        return;
      }
      int n = Integer.parseInt(p[1]);
      String etag = "\"" + sha256(raw).substring(0, 32) + "\"";
      parts.computeIfAbsent(oid, o -> new ConcurrentHashMap<>()).put(n, raw);
      etags.computeIfAbsent(oid, o -> new ConcurrentHashMap<>()).put(n, etag);
      x.getResponseHeaders().set("ETag", etag);
      respond(x, 200, "");
      return;
    }
    if (x.getRequestMethod().equals("POST") && p.length == 2 && p[1].equals("complete")) {
      JsonObject body = json(raw).getAsJsonObject();
      var whole = new ByteArrayOutputStream();
      int expected = 1;
      for (JsonElement e : body.getAsJsonArray("parts")) {
        int n = e.getAsJsonObject().get("partNumber").getAsInt();
        String etag = e.getAsJsonObject().get("etag").getAsString();
        if (n != expected++ || !etag.equals(etags.getOrDefault(oid, Map.of()).get(n))) {
          respond(x, 400, "{\"error\":\"part " + n + " has no upload with ETag " + etag + "\"}");
          return;
        }
        whole.writeBytes(parts.get(oid).get(n));
      }
      byte[] bytes = whole.toByteArray();
      if (!body.get("oid").getAsString().equals(oid) || bytes.length != size || !sha256(bytes).equals(oid)) {
        respond(x, 400, "{\"error\":\"the parts do not make the object " + oid + "\"}");
        return;
      }
      objects.put(oid, bytes);
      respond(x, 200, "{\"success\":true}");
      return;
    }
    respond(x, 405, "");
  }

  static String sha256(byte[] b) {
    try {
      return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private static JsonElement json(byte[] raw) {
    return JsonParser.parseString(new String(raw, StandardCharsets.UTF_8));
  }

  private static void respond(HttpExchange x, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", body.startsWith("<") ? "application/xml" : "application/json");
    x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    if (b.length > 0) {
      x.getResponseBody().write(b);
    }
  }
}
