/**
 * Short, readable programs that show lora4j from application code.
 * Each class has a main method and runs on the CPU.
 */
package io.github.lora4j.examples;
