package io.github.lora4j.cli;

import java.io.IOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/** The {@code lora4j} command; each subcommand is its own class in this package. */
@Command(
    name = "lora4j",
    mixinStandardHelpOptions = true,
    version = "lora4j 0.1.0-SNAPSHOT",
    description = "Fine-tune large language models with LoRA from Java.",
    subcommands = {CommandLine.HelpCommand.class, ScheduleCommand.class, InspectCommand.class, LossCommand.class,
        TrainCommand.class})
public final class Lora4jCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /**
   * The configured command line, shared by {@link #main} and the tests. A bad command line, and an
   * argument lora4j refuses (an {@link IllegalArgumentException}, whose message names it), print one line
   * to stderr, {@code lora4j <command>: <what is wrong>}, and exit with status 2; a file that cannot be
   * written prints one line too and exits with status 1.
   */
  public static CommandLine newCommandLine() {
    CommandLine commandLine = new CommandLine(new Lora4jCommand());
    commandLine.setParameterExceptionHandler(
        (ex, args) -> fail(ex.getCommandLine(), describe(ex), CommandLine.ExitCode.USAGE));
    commandLine.setExecutionExceptionHandler(
        (ex, failed, parseResult) ->
            switch (ex) {
              case IllegalArgumentException refused -> fail(failed, refused.getMessage(), CommandLine.ExitCode.USAGE);
              case IOException io -> fail(failed, io.getMessage(), CommandLine.ExitCode.SOFTWARE);
              default -> throw ex;
            });
    return commandLine;
  }

  private static int fail(CommandLine failed, String message, int exitCode) {
    failed.getErr().println(prefix(failed) + message);
    failed.getErr().flush();
    return exitCode;
  }

  private static String prefix(CommandLine commandLine) {
    return commandLine.getCommandSpec().qualifiedName() + ": ";
  }

  /** picocli's message, with the option named up front where a converter explained the problem itself. */
  private static String describe(ParameterException ex) {
    ArgSpec arg = ex.getArgSpec();
    if (ex.getCause() instanceof TypeConversionException conversion && arg instanceof OptionSpec option) {
      return option.longestName() + ": " + conversion.getMessage();
    }
    // picocli starts some messages (mutually exclusive options) with "Error: ", which the prefix already says.
    return ex.getMessage().replaceFirst("^Error: ", "");
  }
}
