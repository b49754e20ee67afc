"""Media building blocks of the render pipelines, one concept per module.

Every ffmpeg run goes through `editai_common.ffmpeg.run_ffmpeg` (async subprocess,
time limit, progress, killed on cancel); outputs are published through the media
store's `temp_path`, so a failed or cancelled run leaves nothing behind.

    presets         render presets (1080x1920 H.264/AAC, loudness target)
    filters         denoise / sharpen / colour, validated, as a filter chain
    normalize       rotation + scale/crop (or blurred pad) to the output frame
    probing         display rotation from a decoded frame (beyond the shared probe)
    filtergraph     escaping of values inside ffmpeg filtergraphs
    scoring         one low-res ffmpeg analysis pass → distinct candidate windows
    speech_regions  speech detection (silencedetect) → ducking volume expression
    segments        selection modes, filling a duration, concatenating pieces
    phrases         subtitle phrases from TTS word timings
    subtitle_style  SubtitleStyle from the frontend's camelCase settings
    subtitles       SRT sanitising, ASS files with PlayRes = output size
    loudness        two-pass loudnorm, ebur128 measurement
    final_render    the final render in as few ffmpeg passes as possible
    thumbnails      a 320 px wide thumbnail per clip
"""
