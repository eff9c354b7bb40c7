package io.github.lora4j.core.train;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in its own JVM by {@link CheckpointStoreTest}: saves checkpoint-1, then dies halfway
 * through writing checkpoint-2, as a process killed mid-save does.
 */
public final class CrashingSave {

  public static void main(String[] args) throws Exception {
    var store = CheckpointStore.open(Path.of(args[0]), 0);
    store.save(TrainerState.start(10, 1, 1, 1, 1, 1).atStep(1, 0.1, 0),
        dir -> Files.writeString(dir.resolve("adapter_model.safetensors"), "one"));
    store.save(TrainerState.start(10, 1, 1, 1, 1, 1).atStep(2, 0.2, 0), dir -> {
      Files.writeString(dir.resolve("adapter_model.safetensors"), "half of tw");
      Runtime.getRuntime().halt(3);
    });
  }
}
