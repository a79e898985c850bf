"""BN2xx: the structure of models (layer order, features, bias before norm)."""
