"""Speech providers behind `services.tts.speech.SpeechProvider`: ElevenLabs and espeak-ng."""
