"""The per-file context every rule shares: names, models, modes, intent."""
