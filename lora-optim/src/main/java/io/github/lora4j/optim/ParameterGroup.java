package io.github.lora4j.optim;

import java.util.List;
import java.util.OptionalDouble;

/**
 * Parameters that share hyperparameters, as a {@code param_groups} entry of a torch optimizer: the
 * usual use is no weight decay on biases and norms.
 *
 * <pre>{@code
 * List<ParameterGroup> groups = List.of(
 *     ParameterGroup.of("weights", weights),
 *     ParameterGroup.of("no_decay", biases).withWeightDecay(0));
 * }</pre>
 *
 * An empty {@code weightDecay} takes the optimizer's; an empty {@code learningRate} takes the
 * schedule's peak. A group's own learning rate is scaled by the schedule's factor at every step, as
 * {@code LambdaLR} scales each group's initial rate.
 */
public record ParameterGroup(String name, List<Parameter> parameters, OptionalDouble weightDecay, OptionalDouble learningRate) {

  public ParameterGroup {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("group name must not be blank");
    }
    Arguments.notNull("parameters of group '" + name + "'", parameters);
    parameters = List.copyOf(parameters);
    if (parameters.isEmpty()) {
      throw new IllegalArgumentException("group '" + name + "' has no parameters");
    }
    Arguments.notNull("weightDecay of group '" + name + "'", weightDecay);
    Arguments.notNull("learningRate of group '" + name + "'", learningRate);
    if (weightDecay.isPresent()) {
      Arguments.nonNegative("weightDecay of group '" + name + "'", weightDecay.getAsDouble());
    }
    if (learningRate.isPresent()) {
      Arguments.nonNegative("learningRate of group '" + name + "'", learningRate.getAsDouble());
    }
  }

  /** A group with the optimizer's weight decay and the schedule's learning rate. */
  public static ParameterGroup of(String name, List<Parameter> parameters) {
    return new ParameterGroup(name, parameters, OptionalDouble.empty(), OptionalDouble.empty());
  }

  public static ParameterGroup of(String name, Parameter... parameters) {
    return of(name, List.of(parameters));
  }

  /** This group with its own weight decay. */
  public ParameterGroup withWeightDecay(double weightDecay) {
    return new ParameterGroup(name, parameters, OptionalDouble.of(weightDecay), learningRate);
  }

  /** This group with its own peak learning rate, which the schedule's factor scales at each step. */
  public ParameterGroup withLearningRate(double learningRate) {
    return new ParameterGroup(name, parameters, weightDecay, OptionalDouble.of(learningRate));
  }
}
