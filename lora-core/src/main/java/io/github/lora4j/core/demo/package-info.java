/**
 * The embedded pricer demo: a tiny seeded Llama, its word-level tokenizer and the synthetic pricer
 * data, written as files the Trainer reads. Start at PricerDemo.builder().
 */
package io.github.lora4j.core.demo;
