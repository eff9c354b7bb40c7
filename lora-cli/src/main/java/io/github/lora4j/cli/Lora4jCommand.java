package io.github.lora4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code lora4j} command; each subcommand is its own class in this package. */
@Command(
    name = "lora4j",
    mixinStandardHelpOptions = true,
    version = "lora4j 0.1.0-SNAPSHOT",
    description = "Fine-tune large language models with LoRA from Java.",
    subcommands = {CommandLine.HelpCommand.class, InspectCommand.class})
public final class Lora4jCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /** The configured command line, shared by {@link #main} and the tests. */
  public static CommandLine newCommandLine() {
    return new CommandLine(new Lora4jCommand());
  }
}
