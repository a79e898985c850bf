"""pytest plugin entry point (the `bn_probe` fixture comes with the runtime probe)."""
