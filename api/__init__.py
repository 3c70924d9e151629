"""Entry points: the HTTP API, the CLI, and the one composition module they share."""
