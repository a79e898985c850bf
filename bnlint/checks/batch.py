"""BN3xx: batch sizes and distributed training of models with BatchNorm."""
