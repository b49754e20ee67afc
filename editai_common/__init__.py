"""Code shared by the EditAI services: errors, configuration, adapters for the
outside world (Postgres, Redis, media store, ffmpeg) and the gRPC server runner."""
