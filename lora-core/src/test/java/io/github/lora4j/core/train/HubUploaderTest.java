package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a stand-in for the Hub on 127.0.0.1 that implements the two endpoints the uploader uses. */
class HubUploaderTest {

  private static final String TOKEN = "hf_testTOKEN0123456789";

  @TempDir Path dir;

  /** The stand-in Hub: checks the token, records every request, fails as told. */
  static final class FakeHub {
    final HttpServer server;
    final Set<String> repos = new HashSet<>();
    final List<JsonObject> creates = new CopyOnWriteArrayList<>();
    final List<String> commitPaths = new CopyOnWriteArrayList<>();
    final List<String> commitBodies = new CopyOnWriteArrayList<>();
    final List<String> contentTypes = new CopyOnWriteArrayList<>();
    final AtomicInteger commitFailuresLeft = new AtomicInteger();
    volatile int failureStatus = 500;
    volatile String failureBody = "{\"error\":\"Internal Error\"}";

    FakeHub() throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext("/api/repos/create", this::create);
      server.createContext("/api/models/", this::commit);
      server.start();
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private boolean authorized(HttpExchange x) throws IOException {
      if (!("Bearer " + TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
        respond(x, 401, "{\"error\":\"Invalid credentials in Authorization header\"}");
        return false;
      }
      return true;
    }

    private void create(HttpExchange x) throws IOException {
      if (!x.getRequestMethod().equals("POST") || !authorized(x)) {
        if (x.getResponseCode() == -1) {
          respond(x, 405, "");
        }
        return;
      }
      JsonObject body = JsonParser.parseString(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8))
          .getAsJsonObject();
      creates.add(body);
      String id = body.get("organization").getAsString() + "/" + body.get("name").getAsString();
      if (!repos.add(id)) {
        respond(x, 409, "{\"error\":\"You already created this model repo\",\"url\":\"" + uri() + "/" + id + "\"}");
      } else {
        respond(x, 200, "{\"url\":\"" + uri() + "/" + id + "\"}");
      }
    }

    private void commit(HttpExchange x) throws IOException {
      if (!x.getRequestMethod().equals("POST") || !authorized(x)) {
        if (x.getResponseCode() == -1) {
          respond(x, 405, "");
        }
        return;
      }
      commitPaths.add(x.getRequestURI().getRawPath());
      contentTypes.add(x.getRequestHeaders().getFirst("Content-Type"));
      commitBodies.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      if (commitFailuresLeft.getAndDecrement() > 0) {
        respond(x, failureStatus, failureBody);
        return;
      }
      respond(x, 200, "{\"success\":true,\"commitOid\":\"0123abcd\",\"commitUrl\":\"" + uri()
          + "/me/adapter/commit/0123abcd\"}");
    }

    private static void respond(HttpExchange x, int status, String body) throws IOException {
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().set("Content-Type", "application/json");
      x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
      if (b.length > 0) {
        x.getResponseBody().write(b);
      }
      x.close();
    }
  }

  private FakeHub hub;
  private final List<String> reports = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    hub = new FakeHub();
  }

  @AfterEach
  void stop() {
    hub.server.stop(0);
  }

  private HubUploader.Builder uploader() {
    return HubUploader.builder("me/adapter", Map.of(HubUploader.TOKEN_ENV, TOKEN)).endpoint(hub.uri())
        .initialBackoff(Duration.ofMillis(5)).maxAttempts(3).reporter(reports::add);
  }

  private Path adapter() throws IOException {
    Path a = dir.resolve("adapter");
    Files.createDirectories(a.resolve("logs"));
    Files.writeString(a.resolve("adapter_config.json"), "{\"r\": 32, \"peft_type\": \"LORA\"}\n");
    byte[] weights = new byte[4096];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (byte) (i * 31 + 7);
    }
    Files.write(a.resolve("adapter_model.safetensors"), weights);
    Files.writeString(a.resolve("logs/notes.txt"), "ünïcödé\n");
    return a;
  }

  private static List<JsonObject> lines(String ndjson) {
    var out = new ArrayList<JsonObject>();
    for (String l : ndjson.split("\n")) {
      out.add(JsonParser.parseString(l).getAsJsonObject());
    }
    return out;
  }

  @Test
  void createsAPrivateRepoAndCommitsEveryFileInOneCommit() throws IOException {
    Path a = adapter();
    HubUploader.Result r = uploader().build().upload(a, "checkpoint-500");
    assertTrue(r.ok(), r.toString());
    assertEquals(1, r.attempts());
    assertEquals(3, r.files());
    assertEquals(hub.uri() + "/me/adapter/commit/0123abcd", r.commitUrl());
    assertNull(r.error());

    assertEquals(1, hub.creates.size());
    JsonObject create = hub.creates.get(0);
    assertEquals("adapter", create.get("name").getAsString());
    assertEquals("me", create.get("organization").getAsString());
    assertEquals("model", create.get("type").getAsString());
    assertTrue(create.get("private").getAsBoolean(), "private unless asked otherwise");

    assertEquals(List.of("/api/models/me/adapter/commit/main"), hub.commitPaths);
    assertEquals("application/x-ndjson", hub.contentTypes.get(0));
    List<JsonObject> lines = lines(hub.commitBodies.get(0));
    assertEquals(4, lines.size(), "a header and three files");
    assertEquals("header", lines.get(0).get("key").getAsString());
    assertEquals("checkpoint-500", lines.get(0).getAsJsonObject("value").get("summary").getAsString());
    var paths = new ArrayList<String>();
    for (JsonObject line : lines.subList(1, 4)) {
      assertEquals("file", line.get("key").getAsString());
      JsonObject v = line.getAsJsonObject("value");
      assertEquals("base64", v.get("encoding").getAsString());
      String path = v.get("path").getAsString();
      paths.add(path);
      assertArrayEquals(Files.readAllBytes(a.resolve(path)), Base64.getDecoder().decode(v.get("content").getAsString()),
          path);
    }
    assertEquals(List.of("adapter_config.json", "adapter_model.safetensors", "logs/notes.txt"), paths);
    assertEquals(1, reports.size());
    assertTrue(reports.get(0).startsWith("uploaded 3 file(s) to me/adapter at main: "), reports.get(0));
  }

  @Test
  void anExistingRepoIsUsedAndCreatedOnlyOncePerUploader() throws IOException {
    hub.repos.add("me/adapter");
    HubUploader u = uploader().privateRepo(false).revision("runs/pricer 1").build();
    assertTrue(u.upload(adapter(), "first").ok());
    assertTrue(u.upload(adapter(), "second").ok());
    assertEquals(1, hub.creates.size(), "409 means the repository is there; the next upload does not ask again");
    assertFalse(hub.creates.get(0).get("private").getAsBoolean());
    assertEquals("/api/models/me/adapter/commit/runs%2Fpricer%201", hub.commitPaths.get(0));
  }

  @Test
  void aServerErrorIsRetriedWithBackoffUntilItSucceeds() throws IOException {
    hub.commitFailuresLeft.set(2);
    HubUploader.Result r = uploader().build().upload(adapter(), "s");
    assertTrue(r.ok(), r.toString());
    assertEquals(3, r.attempts());
    assertEquals(3, hub.commitBodies.size());
    assertEquals(hub.commitBodies.get(0), hub.commitBodies.get(2), "each attempt sends the same commit");
    assertEquals(3, reports.size(), reports.toString());
    assertEquals("hub upload to me/adapter: attempt 1 of 3 failed (committing: HTTP 500 {\"error\":\"Internal "
        + "Error\"}); retrying in 5 ms", reports.get(0));
    assertTrue(reports.get(1).contains("attempt 2 of 3 failed") && reports.get(1).endsWith("retrying in 10 ms"),
        reports.get(1));
  }

  @Test
  void givesUpAfterMaxAttemptsAndReportsWithoutThrowing() throws IOException {
    hub.commitFailuresLeft.set(Integer.MAX_VALUE);
    hub.failureStatus = 503;
    HubUploader.Result r = uploader().build().upload(adapter(), "s");
    assertFalse(r.ok());
    assertEquals(3, r.attempts());
    assertEquals(3, hub.commitBodies.size());
    assertEquals("committing: HTTP 503 {\"error\":\"Internal Error\"}", r.error());
    assertEquals("hub upload to me/adapter failed after 3 attempt(s): committing: HTTP 503 {\"error\":\"Internal "
        + "Error\"}; training goes on", reports.getLast());
  }

  @Test
  void aRefusedTokenIsNotRetriedAndTheReportSaysWhatToCheck() throws IOException {
    HubUploader u = HubUploader.builder("me/adapter", Map.of()).token("hf_wrong_token").endpoint(hub.uri())
        .initialBackoff(Duration.ofMillis(5)).reporter(reports::add).build();
    HubUploader.Result r = u.upload(adapter(), "s");
    assertFalse(r.ok());
    assertEquals(1, r.attempts());
    assertTrue(r.error().startsWith("creating the repository: HTTP 401"), r.error());
    assertTrue(r.error().contains("check that HF_TOKEN is set to a token with write access to me/adapter"), r.error());
    assertEquals(0, hub.commitBodies.size());
  }

  @Test
  void aClientErrorOfTheCommitIsNotRetried() throws IOException {
    hub.commitFailuresLeft.set(Integer.MAX_VALUE);
    hub.failureStatus = 400;
    hub.failureBody = "{\"error\":\"Your push was rejected because it contains binary files\"}";
    HubUploader.Result r = uploader().build().upload(adapter(), "s");
    assertFalse(r.ok());
    assertEquals(1, r.attempts());
    assertTrue(r.error().contains("binary files"), r.error());
  }

  @Test
  void theTokenNeverReachesAReportEvenWhenTheServerEchoesIt() throws IOException {
    hub.commitFailuresLeft.set(Integer.MAX_VALUE);
    hub.failureBody = "{\"error\":\"bad request from Bearer " + TOKEN + "\"}";
    HubUploader.Result r = uploader().build().upload(adapter(), "s");
    assertFalse(r.ok());
    assertTrue(r.error().contains("Bearer ***"), r.error());
    for (String line : reports) {
      assertFalse(line.contains(TOKEN), line);
    }
    assertFalse(r.toString().contains(TOKEN));
    assertFalse(uploader().build().toString().contains(TOKEN));
  }

  @Test
  void anUnreachableHubIsRetriedThenReported() throws IOException {
    URI gone = hub.uri();
    hub.server.stop(0);
    HubUploader.Result r = HubUploader.builder("me/adapter", Map.of(HubUploader.TOKEN_ENV, TOKEN)).endpoint(gone)
        .initialBackoff(Duration.ofMillis(1)).maxAttempts(2).requestTimeout(Duration.ofSeconds(5))
        .reporter(reports::add).build().upload(adapter(), "s");
    assertFalse(r.ok());
    assertEquals(2, r.attempts());
    assertTrue(r.error().startsWith("ConnectException"), r.error());
    assertEquals(2, reports.size());
  }

  @Test
  void asyncUploadReadsTheFolderBeforeReturning() throws Exception {
    Path a = adapter();
    var future = uploader().build().uploadAsync(a, "s");
    CheckpointStore.deleteTree(a); // rotated away while the upload runs
    HubUploader.Result r = future.get(30, TimeUnit.SECONDS);
    assertTrue(r.ok(), r.toString());
    assertEquals(3, r.files());
  }

  @Test
  void nothingToUploadIsAFailedResultNotAnException() throws IOException {
    HubUploader u = uploader().build();
    HubUploader.Result missing = u.upload(dir.resolve("nope"), "s");
    assertFalse(missing.ok());
    assertEquals(0, missing.attempts());
    assertTrue(missing.error().startsWith("cannot read " + dir.resolve("nope")), missing.error());
    Files.createDirectories(dir.resolve("empty"));
    assertEquals("nothing to upload: the folder holds no files", u.upload(dir.resolve("empty"), "s").error());
    assertEquals(0, hub.creates.size());
  }

  @Test
  void settingsAreCheckedBeforeTrainingStarts() {
    var noToken = assertThrows(IllegalArgumentException.class, () -> HubUploader.builder("me/a", Map.of()).build());
    assertTrue(noToken.getMessage().startsWith("HF_TOKEN is not set"), noToken.getMessage());
    for (String bad : List.of("adapter", "me/a/b", "/a", "me/", "me/a..b", "me/-a", "me/a.git")) {
      var e = assertThrows(IllegalArgumentException.class, () -> HubUploader.builder(bad, Map.of()));
      assertEquals("hub repository must be \"namespace/name\" (letters, digits, '-', '_', '.'): \"" + bad + "\"",
          e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> HubUploader.builder("me/a", Map.of()).maxAttempts(0));
    assertThrows(IllegalArgumentException.class,
        () -> HubUploader.builder("me/a", Map.of()).endpoint(URI.create("file:///tmp")));
    assertEquals(URI.create("https://huggingface.co"), HubUploader.DEFAULT_ENDPOINT);
  }
}
