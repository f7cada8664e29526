"""The predictive score: a conversion model trained on point-in-time features."""
