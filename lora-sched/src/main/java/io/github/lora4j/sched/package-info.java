/**
 * Learning-rate schedules with the semantics of Hugging Face transformers' lr_scheduler_type.
 * Start at {@link io.github.lora4j.sched.Schedules}; every schedule is an immutable, thread-safe value.
 */
package io.github.lora4j.sched;
