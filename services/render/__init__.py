"""The render service (editai.render.v1.RenderService)."""
