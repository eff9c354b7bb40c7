/**
 * The lora4j command line: schedule, inspect, loss and train.
 * Built into one runnable jar, lora-cli/target/lora4j.jar.
 */
package io.github.lora4j.cli;
