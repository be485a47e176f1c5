"""Sub-command groups that live in their own modules (imported lazily by ``scanner.cli``)."""
