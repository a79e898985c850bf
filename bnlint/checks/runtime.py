"""BN5xx: findings only the runtime probe can make (registered for docs, SARIF and noqa)."""
