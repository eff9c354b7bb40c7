package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.lora.LoraConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The background pusher: one upload at a time, the newest waiting save wins, staged files outlive their checkpoint. */
class HubPusherTest {

  @TempDir Path runDir;
  private FakeHub hub;

  @BeforeEach
  void start() throws IOException {
    hub = new FakeHub();
  }

  @AfterEach
  void stop() {
    hub.stop();
  }

  private HubPusher pusher(HubStrategy strategy) throws IOException {
    HubUploader uploader = HubUploader.builder("me/run", Map.of(HubUploader.TOKEN_ENV, FakeHub.TOKEN)).endpoint(hub.uri())
        .initialBackoff(Duration.ofMillis(5)).maxAttempts(2).reporter(line -> {}).build();
    return new HubPusher(uploader, strategy, runDir);
  }

  private Path checkpoint(long step) throws IOException {
    Path dir = Files.createDirectories(runDir.resolve("checkpoint-" + step));
    Files.writeString(dir.resolve(LoraConfig.ADAPTER_CONFIG_FILE), "{\"r\": " + step + "}");
    Files.write(dir.resolve(LoraConfig.ADAPTER_WEIGHTS_FILE), new byte[] {(byte) step, 1, 2, 3});
    Files.writeString(dir.resolve(TrainerState.FILE_NAME), "{\"global_step\": " + step + "}");
    return dir;
  }

  private List<String> staging() throws IOException {
    try (Stream<Path> s = Files.list(runDir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(HubPusher.STAGING_PREFIX)).toList();
    }
  }

  @Test
  void savesThatComeWhileAnUploadRunsAreReplacedByTheNewest() throws Exception {
    HubPusher p = pusher(HubStrategy.EVERY_SAVE);
    hub.commitGate = new CountDownLatch(1);
    p.checkpointSaved(1, checkpoint(1), "card 1");
    while (hub.requests.stream().noneMatch(r -> r.contains("/commit/"))) {
      Thread.sleep(5); // the first upload has reached its commit and waits there
    }
    p.checkpointSaved(2, checkpoint(2), "card 2");
    p.checkpointSaved(3, checkpoint(3), "card 3");
    assertEquals(2, staging().size(), "checkpoint-1 uploading and checkpoint-3 waiting; checkpoint-2's staging is gone");
    hub.commitGate.countDown();
    HubUploads r = p.finish(Duration.ofSeconds(30));
    assertEquals(List.of("checkpoint-1", "checkpoint-3"), r.uploads().stream().map(HubUploads.Upload::label).toList());
    assertEquals(1, r.superseded());
    assertEquals(0, r.unfinished());
    assertTrue(r.uploads().stream().allMatch(HubUploads.Upload::ok), r.toString());
    assertEquals("card 3", new String(hub.tree("me/run").get("README.md"), StandardCharsets.UTF_8));
    assertTrue(hub.commitBodies.getLast().contains("\"summary\":\"Training in progress, step 3\""));
    assertEquals(List.of(), staging());
  }

  @Test
  void aCheckpointRotatedAwayWhileItsUploadWaitsStillGoesUp() throws Exception {
    HubPusher p = pusher(HubStrategy.CHECKPOINT);
    hub.commitGate = new CountDownLatch(1);
    Path one = checkpoint(1);
    byte[] weights = Files.readAllBytes(one.resolve(LoraConfig.ADAPTER_WEIGHTS_FILE));
    p.checkpointSaved(1, one, "card");
    CheckpointStore.deleteTree(one); // saveTotalLimit rotated it away
    hub.commitGate.countDown();
    HubUploads r = p.finish(Duration.ofSeconds(30));
    assertTrue(r.uploads().getFirst().ok(), r.toString());
    var tree = hub.tree("me/run");
    assertArrayEquals(weights, tree.get(LoraConfig.ADAPTER_WEIGHTS_FILE));
    assertArrayEquals(weights, tree.get("last-checkpoint/" + LoraConfig.ADAPTER_WEIGHTS_FILE));
    assertEquals("{\"global_step\": 1}", new String(tree.get("last-checkpoint/trainer_state.json"), StandardCharsets.UTF_8));
  }

  @Test
  void theFinalUploadOfTheCheckpointStrategyCarriesTheLastCheckpoint() throws Exception {
    HubPusher p = pusher(HubStrategy.CHECKPOINT);
    Path adapter = checkpoint(9).resolveSibling("adapter");
    Files.createDirectories(adapter);
    Files.copy(runDir.resolve("checkpoint-9").resolve(LoraConfig.ADAPTER_CONFIG_FILE), adapter.resolve(LoraConfig.ADAPTER_CONFIG_FILE));
    Files.copy(runDir.resolve("checkpoint-9").resolve(LoraConfig.ADAPTER_WEIGHTS_FILE), adapter.resolve(LoraConfig.ADAPTER_WEIGHTS_FILE));
    p.trainingEnded(adapter, Optional.of(runDir.resolve("checkpoint-9")), "final card");
    HubUploads r = p.finish(Duration.ofSeconds(30));
    assertTrue(r.finalUploaded(), r.toString());
    assertEquals(List.of("README.md", "adapter_config.json", "adapter_model.safetensors", "last-checkpoint/adapter_config.json",
        "last-checkpoint/adapter_model.safetensors", "last-checkpoint/trainer_state.json"), List.copyOf(hub.tree("me/run").keySet()));
    assertTrue(hub.commitBodies.getLast().contains("\"summary\":\"End of training\""));
  }

  @Test
  void finishWaitsOnlyAsLongAsAskedAndCountsWhatIsStillRunning() throws Exception {
    HubPusher p = pusher(HubStrategy.EVERY_SAVE);
    hub.commitGate = new CountDownLatch(1);
    p.checkpointSaved(1, checkpoint(1), "card");
    HubUploads r = p.finish(Duration.ofMillis(100));
    assertEquals(1, r.unfinished());
    assertFalse(r.finalUploaded());
    hub.commitGate.countDown();
  }

  @Test
  void endPushesNothingAtSavesAndAFailureToStageIsReportedNotThrown() throws Exception {
    HubPusher p = pusher(HubStrategy.END);
    p.checkpointSaved(1, checkpoint(1), "card");
    p.trainingEnded(runDir.resolve("no-such-adapter"), Optional.empty(), "card");
    HubUploads r = p.finish(Duration.ofSeconds(30));
    assertEquals(1, r.uploads().size(), r.toString());
    assertEquals(HubUploads.FINAL, r.uploads().getFirst().label());
    assertTrue(r.uploads().getFirst().error().orElseThrow().startsWith("cannot stage the files: "), r.toString());
    assertEquals(List.of(), hub.commitBodies);
  }

  @Test
  void stagingLeftByACrashedRunIsRemovedWhenTheNextStarts() throws Exception {
    Path left = Files.createDirectories(runDir.resolve(HubPusher.STAGING_PREFIX + "checkpoint-5-123"));
    Files.writeString(left.resolve("README.md"), "x");
    pusher(HubStrategy.EVERY_SAVE);
    assertFalse(Files.exists(left));
  }
}
