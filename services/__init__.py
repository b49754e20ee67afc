"""The EditAI services, one package each: gateway, render, tts, progress."""
