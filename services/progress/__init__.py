"""The progress service (editai.progress.v1.ProgressService): durable job progress."""
