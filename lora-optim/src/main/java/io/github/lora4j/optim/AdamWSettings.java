package io.github.lora4j.optim;

import com.google.gson.JsonObject;

/** The Adam family's own hyperparameters, and the bias corrections of torch's update. */
record AdamWSettings(double beta1, double beta2, double eps, boolean amsgrad) {

  /** {@code 1 - beta1^step}, as torch computes it in Python double. */
  double biasCorrection1(long step) {
    return 1 - Math.pow(beta1, step);
  }

  double biasCorrection2(long step) {
    return 1 - Math.pow(beta2, step);
  }

  void describe(JsonObject json) {
    json.addProperty("beta1", beta1);
    json.addProperty("beta2", beta2);
    json.addProperty("eps", eps);
    json.addProperty("amsgrad", amsgrad);
  }
}
