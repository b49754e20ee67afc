"""The tts service (editai.tts.v1.TtsService)."""
