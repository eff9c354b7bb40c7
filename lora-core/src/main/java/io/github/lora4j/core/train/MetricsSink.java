package io.github.lora4j.core.train;

/**
 * Where the trainer sends the metrics of each logged step: a file, TensorBoard, the console, or
 * the application's own monitoring. A sink that cannot write throws {@link
 * java.io.UncheckedIOException}.
 *
 * <pre>{@code
 * MetricsSink toConsole = m -> System.out.printf("step %d loss %.4f%n", m.step(), m.loss());
 * }</pre>
 */
@FunctionalInterface
public interface MetricsSink extends AutoCloseable {

  /** Records one logged step; called from the training thread, in step order. */
  void log(StepMetrics metrics);

  /** Flushes and releases what the sink holds; the trainer calls it once, at the end of training. */
  @Override
  default void close() {}
}
