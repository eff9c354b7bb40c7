package io.github.lora4j.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A seeded generator of product listings whose prices follow a hidden, learnable rule, for the
 * embedded demo and for tests (no real catalogue is available offline). The rule multiplies a
 * base price per category by factors for the brand's tier, the size and the material, all of which
 * the listing's text states, then applies log-normal noise:
 *
 * <pre>
 *   price = base(category) * tier(brand) * size * material * exp(noise * N(0, 1))
 * </pre>
 *
 * Listings whose price falls outside the price range are drawn again. Everything else in the text
 * (colours, warranty blurbs, model numbers) is noise the model should learn to ignore. {@link
 * #rulePrice} gives the noiseless price of a listing, the best any model can do.
 *
 * <pre>{@code
 * List<PricerItem> items = SyntheticPricer.builder().seed(42).build().generate(1000);
 * }</pre>
 */
public final class SyntheticPricer {

  private record Category(String name, double base, String[] products) {}

  private record Factor(String name, double factor) {}

  private static final Category[] CATEGORIES = {
    new Category("Electronics", 90, new String[] {"Bluetooth Speaker", "Wireless Headphones", "Action Camera", "Smart Watch", "Portable Projector", "Desk Monitor"}),
    new Category("Appliances", 140, new String[] {"Blender", "Air Fryer", "Espresso Machine", "Stand Mixer", "Dehumidifier", "Microwave Oven"}),
    new Category("Tools & Home Improvement", 55, new String[] {"Cordless Drill", "Tool Chest", "Work Light", "Circular Saw", "Shop Vacuum", "Step Ladder"}),
    new Category("Home & Kitchen", 35, new String[] {"Cookware Set", "Knife Block", "Storage Rack", "Cutting Board", "Table Lamp", "Dinnerware Set"}),
    new Category("Sports & Outdoors", 45, new String[] {"Camping Tent", "Hiking Backpack", "Yoga Mat", "Kayak Paddle", "Folding Chair", "Cooler"}),
    new Category("Toys & Games", 22, new String[] {"Building Set", "Jigsaw Puzzle", "Remote Control Car", "Board Game", "Plush Toy", "Dollhouse"}),
    new Category("Automotive", 40, new String[] {"Car Vacuum", "Jump Starter", "Roof Box", "Floor Mats", "Tire Inflator", "Dash Camera"}),
    new Category("Office Products", 25, new String[] {"Desk Organizer", "Office Chair", "Filing Cabinet", "Label Maker", "Whiteboard", "Paper Shredder"}),
    new Category("Musical Instruments", 110, new String[] {"Acoustic Guitar", "Digital Keyboard", "Drum Pad", "Ukulele", "Studio Microphone", "Guitar Amplifier"}),
  };

  /** Brand tiers: the factor, and the brands of the tier. */
  private static final Map<String, Double> BRAND_FACTORS = new LinkedHashMap<>();

  private static final String[][] BRANDS = {
    {"Valuline", "Thriftex", "Basix"}, // budget
    {"Brightway", "Homestead", "Corvan"}, // standard
    {"Northpeak", "Sterling & Vale", "Altura"}, // premium
    {"Aurelian", "Maison Orme", "Kestrel Atelier"}, // luxury
  };
  private static final double[] TIER_FACTORS = {0.55, 1.0, 1.8, 3.2};

  static {
    for (int t = 0; t < BRANDS.length; t++) {
      for (String b : BRANDS[t]) {
        BRAND_FACTORS.put(b, TIER_FACTORS[t]);
      }
    }
  }

  private static final Factor[] SIZES = {new Factor("Compact", 0.7), new Factor("Standard", 1.0), new Factor("Large", 1.45), new Factor("Extra Large", 2.0)};

  private static final Factor[] MATERIALS = {
    new Factor("Plastic", 0.8),
    new Factor("Bamboo", 0.95),
    new Factor("Glass", 1.05),
    new Factor("Wood", 1.1),
    new Factor("Aluminum", 1.2),
    new Factor("Stainless Steel", 1.35),
    new Factor("Leather", 1.5),
    new Factor("Carbon Fiber", 1.9),
  };

  private static final String[] COLORS = {"Black", "White", "Slate Gray", "Navy Blue", "Forest Green", "Crimson", "Sand", "Silver"};

  private static final String[] BLURBS = {
    "Designed for easy cleaning and quick setup.",
    "Backed by a one-year limited warranty from the manufacturer.",
    "Ships in recyclable packaging with a printed quick-start guide.",
    "A thoughtful gift for birthdays, holidays and housewarmings.",
    "Customers praise its sturdy feel and clean lines.",
    "Fits neatly on a shelf or in a cupboard when not in use.",
    "Every unit is inspected before it leaves the factory.",
    "Pairs well with the rest of the collection in matching finishes.",
    "Rounded edges and a non-slip base make it safe around the house.",
    "Replacement parts are available for years after purchase.",
  };

  private final long seed;
  private final double noise;
  private final double minPrice;
  private final double maxPrice;

  private SyntheticPricer(Builder b) {
    this.seed = b.seed;
    this.noise = b.noise;
    this.minPrice = b.minPrice;
    this.maxPrice = b.maxPrice;
  }

  /** Seed 42, noise 0.1, prices in [1, 999]. */
  public static Builder builder() {
    return new Builder();
  }

  /** {@code count} listings; the same seed gives the same listings. */
  public List<PricerItem> generate(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0: " + count);
    }
    SplitMix64 random = new SplitMix64(seed);
    String source = "synthetic(seed=" + seed + ")";
    List<PricerItem> items = new ArrayList<>(count);
    while (items.size() < count) {
      PricerItem item = draw(random, new Origin(source, items.size() + 1));
      if (item.price() >= minPrice && item.price() <= maxPrice) {
        items.add(item);
      }
    }
    return items;
  }

  /**
   * The noiseless price of a listing this generator made: the rule applied to the category,
   * brand, size and material its details state.
   *
   * @throws IllegalArgumentException for a listing from elsewhere
   */
  public static double rulePrice(PricerItem item) {
    double base = -1;
    for (Category c : CATEGORIES) {
      if (c.name.equals(item.category())) {
        base = c.base;
      }
    }
    Double tier = BRAND_FACTORS.get(item.details().get("Brand"));
    double size = factor(SIZES, item.details().get("Size"));
    double material = factor(MATERIALS, item.details().get("Material"));
    if (base < 0 || tier == null || size < 0 || material < 0) {
      throw new IllegalArgumentException("not a synthetic listing (category, Brand, Size, Material): " + item.title());
    }
    return base * tier * size * material;
  }

  private static double factor(Factor[] factors, String name) {
    for (Factor f : factors) {
      if (f.name.equals(name)) {
        return f.factor;
      }
    }
    return -1;
  }

  private PricerItem draw(SplitMix64 r, Origin origin) {
    Category category = CATEGORIES[r.nextInt(CATEGORIES.length)];
    String product = category.products[r.nextInt(category.products.length)];
    int tier = r.nextInt(BRANDS.length);
    String brand = BRANDS[tier][r.nextInt(BRANDS[tier].length)];
    Factor size = SIZES[r.nextInt(SIZES.length)];
    Factor material = MATERIALS[r.nextInt(MATERIALS.length)];
    String color = COLORS[r.nextInt(COLORS.length)];
    double rule = category.base * TIER_FACTORS[tier] * size.factor * material.factor;
    double price = Math.round(rule * Math.exp(noise * r.nextGaussian()) * 100) / 100.0;

    double scale = size.factor;
    double length = Math.round((8 + 10 * r.nextDouble()) * scale * 10) / 10.0;
    double width = Math.round((5 + 6 * r.nextDouble()) * scale * 10) / 10.0;
    double height = Math.round((3 + 5 * r.nextDouble()) * scale * 10) / 10.0;
    double weight = Math.round((1 + 4 * r.nextDouble()) * scale * scale * 10) / 10.0;
    String dimensions = String.format(Locale.ROOT, "%.1f x %.1f x %.1f inches", length, width, height);
    String model = brand.substring(0, 2).toUpperCase(Locale.ROOT) + "-" + (1_000_000 + r.nextInt(9_000_000));

    String title = brand + " " + size.name + " " + material.name + " " + product + ", " + color;
    String lowerMaterial = material.name.toLowerCase(Locale.ROOT);
    int[] blurbs = r.permutation(BLURBS.length); // five different blurbs
    List<String> description =
        List.of(
            "The " + brand + " " + product.toLowerCase(Locale.ROOT) + " is made of " + lowerMaterial + " and finished in " + color.toLowerCase(Locale.ROOT) + ". "
                + "Its " + size.name.toLowerCase(Locale.ROOT) + " build measures " + dimensions + ". "
                + BLURBS[blurbs[0]] + " " + BLURBS[blurbs[1]],
            BLURBS[blurbs[2]] + " " + BLURBS[blurbs[3]]);
    List<String> features =
        List.of(
            size.name + " size: " + dimensions + ", " + weight + " pounds",
            "Made of " + lowerMaterial + " for everyday use",
            "Color: " + color,
            BLURBS[blurbs[4]]);
    Map<String, String> details = new LinkedHashMap<>();
    details.put("Brand", brand);
    details.put("Material", material.name);
    details.put("Size", size.name);
    details.put("Color", color);
    details.put("Product Dimensions", dimensions);
    details.put("Item Weight", weight + " pounds");
    details.put("Model Number", model);
    details.put("Date First Available", "March " + (1 + r.nextInt(28)) + ", " + (2015 + r.nextInt(9)));
    return new PricerItem(title, description, features, details, category.name, price, origin);
  }

  /** The generator's settings; each setter checks its argument. */
  public static final class Builder {
    private long seed = 42;
    private double noise = 0.1;
    private double minPrice = 1;
    private double maxPrice = 999;

    private Builder() {}

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** The standard deviation of the log-normal noise on the price; 0.1 (about 10%) by default. */
    public Builder noise(double noise) {
      if (!(noise >= 0 && noise <= 2)) {
        throw new IllegalArgumentException("noise must be in [0, 2]: " + noise);
      }
      this.noise = noise;
      return this;
    }

    /** The range prices are drawn in, in dollars; [1, 999] by default. */
    public Builder priceRange(double minPrice, double maxPrice) {
      if (!(minPrice >= 0 && maxPrice > minPrice && Double.isFinite(maxPrice))) {
        throw new IllegalArgumentException("priceRange must satisfy 0 <= minPrice < maxPrice < infinity: [" + minPrice + ", " + maxPrice + "]");
      }
      this.minPrice = minPrice;
      this.maxPrice = maxPrice;
      return this;
    }

    public SyntheticPricer build() {
      return new SyntheticPricer(this);
    }
  }
}
