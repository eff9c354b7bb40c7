package io.github.lora4j.core.train;

import static io.github.lora4j.core.train.FakeHub.TOKEN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against {@link FakeHub}, a stand-in for the Hub on 127.0.0.1 with the endpoints and answers the uploader meets. */
class HubUploaderTest {

  @TempDir Path dir;

  private FakeHub hub;
  private final List<String> reports = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    hub = new FakeHub();
  }

  @AfterEach
  void stop() {
    hub.stop();
  }

  private HubUploader.Builder uploader() {
    return HubUploader.builder("me/adapter", Map.of(HubUploader.TOKEN_ENV, TOKEN)).endpoint(hub.uri())
        .initialBackoff(Duration.ofMillis(5)).maxAttempts(3).reporter(reports::add);
  }

  private Path adapter() throws IOException {
    return adapter(4096);
  }

  private Path adapter(int weightBytes) throws IOException {
    Path a = dir.resolve("adapter");
    Files.createDirectories(a.resolve("logs"));
    Files.writeString(a.resolve("adapter_config.json"), "{\"r\": 32, \"peft_type\": \"LORA\"}\n");
    byte[] weights = new byte[weightBytes];
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

  /** The repository holds exactly the folder's files, byte for byte. */
  private void assertRepoHolds(Path folder) throws IOException {
    Map<String, byte[]> tree = hub.tree("me/adapter");
    List<HubUploader.RepoFile> local = HubUploader.list(folder, "");
    assertEquals(local.stream().map(HubUploader.RepoFile::path).toList(), List.copyOf(tree.keySet()));
    for (HubUploader.RepoFile f : local) {
      assertArrayEquals(Files.readAllBytes(f.source()), tree.get(f.path()), f.path());
    }
  }

  @Test
  void smallFilesGoInlineAndTheWeightsThroughLfsInOneCommit() throws IOException {
    Path a = adapter();
    HubUploader.Result r = uploader().build().upload(a, "checkpoint-500");
    assertTrue(r.ok(), r.toString());
    assertEquals(1, r.attempts());
    assertEquals(3, r.files());
    assertEquals(1, r.lfsFiles());
    assertEquals(hub.uri() + "/me/adapter/commit/0123abcd", r.commitUrl());
    assertNull(r.error());

    assertEquals(1, hub.creates.size());
    JsonObject create = hub.creates.get(0);
    assertEquals("adapter", create.get("name").getAsString());
    assertEquals("me", create.get("organization").getAsString());
    assertEquals("model", create.get("type").getAsString());
    assertTrue(create.get("private").getAsBoolean(), "private unless asked otherwise");

    String oid = HubUploader.sha256(a.resolve("adapter_model.safetensors"));
    assertEquals(List.of("POST /api/repos/create", "POST /api/models/me/adapter/preupload/main", "POST /me/adapter.git/info/lfs/objects/batch",
        "PUT /storage/" + oid, "POST /me/adapter.git/info/lfs/objects/verify", "POST /api/models/me/adapter/commit/main"), hub.requests);
    assertEquals("application/x-ndjson", hub.contentTypes.get(0));
    List<JsonObject> lines = lines(hub.commitBodies.get(0));
    assertEquals(4, lines.size(), "a header and three files");
    assertEquals("header", lines.get(0).get("key").getAsString());
    assertEquals("checkpoint-500", lines.get(0).getAsJsonObject("value").get("summary").getAsString());
    assertEquals(List.of("file", "lfsFile", "file"), lines.subList(1, 4).stream().map(l -> l.get("key").getAsString()).toList());
    JsonObject inline = lines.get(1).getAsJsonObject("value");
    assertEquals("base64", inline.get("encoding").getAsString());
    assertArrayEquals(Files.readAllBytes(a.resolve("adapter_config.json")), Base64.getDecoder().decode(inline.get("content").getAsString()));
    JsonObject lfs = lines.get(2).getAsJsonObject("value");
    assertEquals("adapter_model.safetensors", lfs.get("path").getAsString());
    assertEquals("sha256", lfs.get("algo").getAsString());
    assertEquals(oid, lfs.get("oid").getAsString());
    assertEquals(4096, lfs.get("size").getAsLong());
    assertFalse(lfs.has("content"), "LFS bytes go to storage, not into the commit");

    assertRepoHolds(a);
    assertEquals(List.of(oid), hub.verified);
    assertEquals(List.of(), hub.storageAuthorizations, "the token never goes to storage");
    assertEquals(1, reports.size());
    assertTrue(reports.get(0).startsWith("uploaded 3 file(s) (1 through LFS) to me/adapter at main: "), reports.get(0));
  }

  @Test
  void aLargeFileGoesUpInPartsAndTheCompletionListsTheirETags() throws IOException {
    hub.multipartThreshold = 3000;
    hub.chunkSize = 1000;
    Path a = adapter(4096);
    HubUploader.Result r = uploader().build().upload(a, "s");
    assertTrue(r.ok(), r.toString());
    String oid = HubUploader.sha256(a.resolve("adapter_model.safetensors"));
    assertEquals(5, hub.storagePuts.get(), "4096 bytes in chunks of 1000: 5 parts");
    for (int n = 1; n <= 5; n++) {
      assertTrue(hub.requests.contains("PUT /storage/" + oid + "/" + n), hub.requests.toString());
    }
    assertTrue(hub.requests.indexOf("POST /storage/" + oid + "/complete") > hub.requests.indexOf("PUT /storage/" + oid + "/5"), hub.requests.toString());
    assertArrayEquals(Files.readAllBytes(a.resolve("adapter_model.safetensors")), hub.objects.get(oid), "the parts make the file again");
    assertRepoHolds(a);
    assertEquals(List.of(), hub.storageAuthorizations);
  }

  @Test
  void bytesTheHubHoldsAlreadyAreNotSentAgain() throws IOException {
    Path a = adapter();
    HubUploader u = uploader().build();
    assertTrue(u.upload(a, "first").ok());
    assertEquals(1, hub.storagePuts.get());
    Files.writeString(a.resolve("adapter_config.json"), "{\"r\": 16}\n");
    HubUploader.Result second = u.upload(a, "second");
    assertTrue(second.ok(), second.toString());
    assertEquals(1, hub.storagePuts.get(), "the batch answer has no upload action for a known object");
    assertEquals(2, hub.commitBodies.size());
    assertTrue(hub.commitBodies.get(1).contains("\"lfsFile\""), "the commit still names the weights");
    assertRepoHolds(a);
  }

  @Test
  void aStorageErrorIsRetriedAsAWhole() throws IOException {
    hub.storageFailuresLeft.set(1);
    hub.failureBody = "<Error><Code>InternalError</Code></Error>";
    Path a = adapter();
    HubUploader.Result r = uploader().build().upload(a, "s");
    assertTrue(r.ok(), r.toString());
    assertEquals(2, r.attempts());
    assertTrue(reports.get(0).startsWith("hub upload to me/adapter: attempt 1 of 3 failed (uploading adapter_model.safetensors to LFS storage: HTTP 500"),
        reports.get(0));
    assertRepoHolds(a);
  }

  @Test
  void emptyFilesGoInlineAndIgnoredFilesAreLeftOut() throws IOException {
    Path a = adapter();
    Files.write(a.resolve("empty.safetensors"), new byte[0]);
    hub.ignored.add("logs/notes.txt");
    HubUploader.Result r = uploader().build().upload(a, "s");
    assertTrue(r.ok(), r.toString());
    assertEquals(3, r.files(), "notes.txt is ignored by the repository's .gitignore");
    assertEquals(1, r.lfsFiles());
    List<JsonObject> lines = lines(hub.commitBodies.get(0));
    JsonObject empty = lines.subList(1, lines.size()).stream().filter(l -> l.getAsJsonObject("value").get("path").getAsString().equals("empty.safetensors")).findFirst().orElseThrow();
    assertEquals("file", empty.get("key").getAsString(), "storage refuses empty objects: an empty file goes inline");
    assertEquals(List.of("adapter_config.json", "adapter_model.safetensors", "empty.safetensors"), List.copyOf(hub.tree("me/adapter").keySet()));
  }

  @Test
  void anLfsBatchErrorFailsWithTheHubsMessage() throws IOException {
    hub.batchError = "Your storage quota is exceeded";
    HubUploader.Result r = uploader().build().upload(adapter(), "s");
    assertFalse(r.ok());
    assertEquals(1, r.attempts(), "a 4xx error object is not retried");
    assertEquals("the LFS batch refused adapter_model.safetensors: Your storage quota is exceeded (code 422)", r.error());
    assertEquals(0, hub.commitBodies.size());
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
    assertEquals(1, hub.storagePuts.get(), "the weights reached storage on the first attempt and are not sent again");
    assertEquals(3, reports.size(), reports.toString());
    assertEquals("hub upload to me/adapter: attempt 1 of 3 failed (committing: HTTP 500 {\"error\":\"Internal Error\"}); retrying in 5 ms", reports.get(0));
    assertTrue(reports.get(1).contains("attempt 2 of 3 failed") && reports.get(1).endsWith("retrying in 10 ms"), reports.get(1));
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
    assertEquals("hub upload to me/adapter failed after 3 attempt(s): committing: HTTP 503 {\"error\":\"Internal Error\"}; training goes on", reports.getLast());
  }

  @Test
  void aRefusedTokenIsNotRetriedAndTheReportSaysWhatToCheck() throws IOException {
    HubUploader u = HubUploader.builder("me/adapter", Map.of()).token("hf_wrong_token").endpoint(hub.uri()).initialBackoff(Duration.ofMillis(5))
        .reporter(reports::add).build();
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
    hub.stop();
    HubUploader.Result r = HubUploader.builder("me/adapter", Map.of(HubUploader.TOKEN_ENV, TOKEN)).endpoint(gone).initialBackoff(Duration.ofMillis(1))
        .maxAttempts(2).requestTimeout(Duration.ofSeconds(5)).reporter(reports::add).build().upload(adapter(), "s");
    assertFalse(r.ok());
    assertEquals(2, r.attempts());
    assertTrue(r.error().startsWith("ConnectException"), r.error());
    assertEquals(2, reports.size());
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
      assertEquals("hub repository must be \"namespace/name\" (letters, digits, '-', '_', '.'): \"" + bad + "\"", e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> HubUploader.builder("me/a", Map.of()).maxAttempts(0));
    assertThrows(IllegalArgumentException.class, () -> HubUploader.builder("me/a", Map.of()).endpoint(URI.create("file:///tmp")));
    assertThrows(IllegalArgumentException.class, () -> new HubUploader.RepoFile("../x", Path.of("x")));
    assertEquals(URI.create("https://huggingface.co"), HubUploader.DEFAULT_ENDPOINT);
  }
}
