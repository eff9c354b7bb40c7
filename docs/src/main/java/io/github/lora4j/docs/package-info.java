/**
 * The user guides live in this module's Markdown files under docs/.
 * Its tests check that every relative link in the guides points at a file that exists.
 */
package io.github.lora4j.docs;
