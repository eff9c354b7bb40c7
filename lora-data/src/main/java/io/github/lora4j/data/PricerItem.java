package io.github.lora4j.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A product as the course's Amazon catalogue describes it (the "Amazon Reviews 2023" metadata
 * fields): the raw material {@link PricerData} curates into a prompt and a price.
 *
 * @param title the product title
 * @param description paragraphs of description, may be empty
 * @param features bullet points, may be empty
 * @param details key-value details ("Brand", "Item Weight", ...), in order, may be empty
 * @param category the catalogue's main category, may be empty
 * @param price the price in dollars; NaN when the catalogue has none
 * @param origin where the item was read from
 */
public record PricerItem(String title, List<String> description, List<String> features, Map<String, String> details, String category, double price, Origin origin) {

  public PricerItem {
    Objects.requireNonNull(title, "title");
    description = List.copyOf(description);
    features = List.copyOf(features);
    details = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(details));
    Objects.requireNonNull(category, "category");
    Objects.requireNonNull(origin, "origin");
  }

  public PricerItem(String title, List<String> description, List<String> features, Map<String, String> details, String category, double price) {
    this(title, description, features, details, category, price, Origin.IN_MEMORY);
  }
}
