package io.github.lora4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.train.FakeHub;
import io.github.lora4j.core.train.HubSettings;
import io.github.lora4j.core.train.HubStrategy;
import io.github.lora4j.core.train.HubUploads;
import io.github.lora4j.core.train.TrainerState;
import io.github.lora4j.core.train.TrainingResult;
import io.github.lora4j.tensor.Device;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pushToHub end to end: tiny CPU training against {@link FakeHub} on 127.0.0.1, and the settings' checks. */
class TrainerHubTest {

  @TempDir Path tmp;
  private FakeHub hub;

  @BeforeEach
  void start() throws Exception {
    hub = new FakeHub();
  }

  @AfterEach
  void stop() {
    hub.stop();
  }

  private Trainer.Builder tiny() throws Exception {
    return Trainer.builder().baseModel(TrainerFitTest.modelWithTokenizer(tmp)).device(Device.cpu()).trainData(TrainerFitTest.data(tmp, "train.jsonl", 32, 1))
        .loraR(4).loraAlpha(8).maxSteps(20).batchSize(4).learningRate(3e-3).logEvery(5).saveEvery(10).outputDir(tmp.resolve("out")).runName("run")
        .pushToHub("me/tiny-lora").hubToken(FakeHub.TOKEN).hubEndpoint(hub.uri());
  }

  @Test
  void pushesTheAdapterAndAModelCardAtEachSaveAndAtTheEnd() throws Exception {
    TrainingResult r = tiny().build().fit();
    assertEquals(20, r.steps());
    HubUploads uploads = r.hub().orElseThrow();
    assertEquals("me/tiny-lora", uploads.repoId());
    assertTrue(uploads.finalUploaded(), uploads.toString());
    assertEquals(List.of(), uploads.failures());
    assertEquals(0, uploads.unfinished());
    assertEquals(HubUploads.FINAL, uploads.uploads().getLast().label());
    assertEquals(3, uploads.uploads().size() + uploads.superseded(), "checkpoint-10, checkpoint-20 and the final adapter, each uploaded or superseded: " + uploads);
    assertTrue(hub.creates.getFirst().get("private").getAsBoolean(), "private by default, as hub_private_repo");

    Map<String, byte[]> tree = hub.tree("me/tiny-lora");
    assertEquals(List.of("README.md", "adapter_config.json", "adapter_model.safetensors"), List.copyOf(tree.keySet()));
    for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
      assertArrayEquals(Files.readAllBytes(r.adapterDir().resolve(f)), tree.get(f), f + " on the Hub is the final adapter's");
    }
    assertTrue(hub.commitBodies.getLast().contains("\"summary\":\"End of training\""), hub.commitBodies.getLast());
    assertTrue(hub.commitBodies.getLast().contains("\"key\":\"lfsFile\""), "the weights go through LFS");
    String card = new String(tree.get("README.md"), StandardCharsets.UTF_8);
    assertTrue(card.startsWith("---\nlibrary_name: peft\n"), card);
    assertTrue(card.contains("- steps: 20 of 20\n") && card.contains("PeftModel.from_pretrained(base_model, \"me/tiny-lora\")"), card);
    assertEquals(List.of(), hub.storageAuthorizations);

    try (Stream<Path> s = Files.list(r.runDir())) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".hub-upload-")), "staging folders are removed");
    }
    String report = Files.readString(r.runDir().resolve("report.html"));
    assertFalse(report.contains(FakeHub.TOKEN), "the token is not in the report");
    assertTrue(report.contains("token=***"), "the report shows the hub settings without the token");
  }

  @Test
  void theCheckpointStrategyPushesTheLastCheckpointToo() throws Exception {
    TrainingResult r = tiny().hubStrategy(HubStrategy.CHECKPOINT).hubPrivate(false).build().fit();
    assertTrue(r.hub().orElseThrow().finalUploaded(), r.hub().toString());
    assertFalse(hub.creates.getFirst().get("private").getAsBoolean());
    Map<String, byte[]> tree = hub.tree("me/tiny-lora");
    Path checkpoint = r.runDir().resolve("checkpoint-20");
    try (Stream<Path> s = Files.list(checkpoint)) {
      for (Path f : s.toList()) {
        assertArrayEquals(Files.readAllBytes(f), tree.get("last-checkpoint/" + f.getFileName()), "last-checkpoint/" + f.getFileName());
      }
    }
    assertEquals(20, TrainerState.fromJson(new String(tree.get("last-checkpoint/trainer_state.json"), StandardCharsets.UTF_8), "hub").globalStep());
  }

  @Test
  void theEndStrategyPushesOnlyTheFinalAdapter() throws Exception {
    TrainingResult r = tiny().hubStrategy("end").build().fit();
    HubUploads uploads = r.hub().orElseThrow();
    assertEquals(List.of(HubUploads.FINAL), uploads.uploads().stream().map(HubUploads.Upload::label).toList());
    assertEquals(1, hub.commitBodies.size());
  }

  @Test
  void aFailingHubNeverStopsTrainingAndTheResultSaysWhy() throws Exception {
    hub.commitFailuresLeft.set(Integer.MAX_VALUE);
    hub.failureStatus = 400;
    hub.failureBody = "{\"error\":\"Your push was rejected\"}";
    TrainingResult r = tiny().build().fit();
    assertEquals(20, r.steps(), "training ran to its end");
    assertTrue(Files.isRegularFile(r.adapterDir().resolve("adapter_model.safetensors")));
    HubUploads uploads = r.hub().orElseThrow();
    assertFalse(uploads.finalUploaded());
    assertFalse(uploads.failures().isEmpty());
    assertTrue(uploads.failures().getLast().error().orElseThrow().contains("committing: HTTP 400 {\"error\":\"Your push was rejected\"}"), uploads.toString());
  }

  @Test
  void anUnreachableHubIsWaitedForOnlyAsLongAsAsked() throws Exception {
    URI gone = hub.uri();
    hub.stop();
    long start = System.nanoTime();
    TrainingResult r = tiny().hubEndpoint(gone).hubWaitAtEnd(Duration.ofMillis(200)).build().fit();
    assertEquals(20, r.steps());
    HubUploads uploads = r.hub().orElseThrow();
    assertFalse(uploads.finalUploaded());
    assertTrue(uploads.unfinished() > 0, "the retries (2 s, 4 s, ...) outlast the wait: " + uploads);
    assertTrue((System.nanoTime() - start) / 1e9 < 60, "fit() did not wait for the retries");
  }

  // ---- the settings ----

  private Trainer.Builder settings(Map<String, String> environment) throws Exception {
    Path data = Files.writeString(tmp.resolve("train.jsonl"), "{\"text\": \"hello\"}\n");
    return Trainer.builder().baseModel(TrainerBuilderTest.MODEL).trainData(data).environment(environment);
  }

  @Test
  void theTokenAndEndpointComeFromTheEnvironmentUnlessSet() throws Exception {
    HubSettings h = settings(Map.of("HF_TOKEN", "hf_fromEnv", "HF_ENDPOINT", "http://127.0.0.1:9/")).pushToHub("me/a").build().config().hub().orElseThrow();
    assertEquals("hf_fromEnv", h.token());
    assertEquals(URI.create("http://127.0.0.1:9/"), h.endpoint());
    assertEquals(HubStrategy.EVERY_SAVE, h.strategy(), "transformers' default hub_strategy");
    assertTrue(h.privateRepo());
    assertEquals(HubSettings.DEFAULT_WAIT_AT_END, h.waitAtEnd());
    HubSettings set = settings(Map.of("HF_TOKEN", "hf_fromEnv")).pushToHub("me/a").hubToken("hf_given").build().config().hub().orElseThrow();
    assertEquals("hf_given", set.token());
    assertEquals(URI.create("https://huggingface.co"), set.endpoint());
    TrainerConfig c = settings(Map.of()).pushToHub("me/a").hubToken("hf_secret123").build().config();
    assertFalse(c.toString().contains("hf_secret123"), "the token is not in the settings' text: " + c);
    assertTrue(settings(Map.of("HF_TOKEN", "hf_x")).build().config().hub().isEmpty(), "no pushes without pushToHub");
  }

  @Test
  void pushToHubWithoutATokenIsRefusedNamingHfToken() throws Exception {
    TrainerConfigException e = assertThrows(TrainerConfigException.class, () -> settings(Map.of()).pushToHub("me/a").build());
    assertEquals(List.of("pushToHub needs a token with write access: set HF_TOKEN (or hubToken(...)); create one at https://huggingface.co/settings/tokens"),
        e.problems());
  }

  @Test
  void everyHubProblemIsNamed() throws Exception {
    TrainerConfigException e = assertThrows(TrainerConfigException.class, () -> settings(Map.of("HF_TOKEN", "t", "HF_ENDPOINT", "ftp://mirror"))
        .pushToHub("me/a/b").hubStrategy("all_checkpoints").hubWaitAtEnd(Duration.ofSeconds(-1)).build());
    List<String> p = e.problems();
    for (String expected : List.of("pushToHub: hub repository must be \"namespace/name\"", "HF_ENDPOINT must be an http(s) URL: ftp://mirror",
        "hubStrategy: unknown hub strategy 'all_checkpoints' (transformers' all_checkpoints", "hubWaitAtEnd must be >= 0")) {
      assertTrue(p.stream().anyMatch(s -> s.startsWith(expected)), "missing '" + expected + "' in " + p);
    }
    assertEquals(4, p.size(), p.toString());
    TrainerConfigException orphan = assertThrows(TrainerConfigException.class,
        () -> settings(Map.of()).hubStrategy("end").hubPrivate(false).build());
    assertEquals(List.of("hubPrivate, hubStrategy set but pushToHub is not: name the repository to push to"), orphan.problems());
  }
}
