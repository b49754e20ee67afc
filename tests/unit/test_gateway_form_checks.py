"""The gateway's own input checks, without I/O: subtitle settings, JSON form fields, media sniffing."""

from __future__ import annotations

import pytest

from services.gateway.errors import ApiError
from services.gateway.media_sniff import MediaKind, matches
from services.gateway.subtitles import first_font_family, subtitle_settings_from_json


@pytest.mark.parametrize(
    ("css", "family"),
    [
        ("Montserrat", "Montserrat"),
        ("'Inter', Arial, sans-serif", "Inter"),
        ('"Open Sans", system-ui', "Open Sans"),
        ("-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto", "Segoe UI"),
        ("sans-serif", "sans-serif"),
    ],
)
def test_a_css_font_list_reduces_to_its_first_real_family(css: str, family: str) -> None:
    assert first_font_family(css) == family


def test_valid_settings_become_a_subtitle_style_and_unknown_keys_are_ignored() -> None:
    settings = subtitle_settings_from_json(
        '{"fontSize": 52, "fontFamily": "Poppins, sans-serif", "positionY": 72.5, "borderStyle": 3,'
        ' "enableGlow": false, "shadowColor": "#112233", "somethingNew": {"x": 1}}'
    )
    assert settings is not None
    style = settings.to_proto()
    assert (style.font_size, style.font_family, style.position_y, style.border_style) == (52, "Poppins", 72.5, 3)
    assert style.HasField("enable_glow") and not style.enable_glow
    assert not style.HasField("text_color"), "unset keys stay unset so render applies its defaults"


@pytest.mark.parametrize("raw", [None, "", "   ", "null"])
def test_absent_settings_are_none(raw: str | None) -> None:
    assert subtitle_settings_from_json(raw) is None


def test_malformed_json_names_the_field_and_the_parser_message() -> None:
    with pytest.raises(ApiError) as caught:
        subtitle_settings_from_json("{bad")
    assert caught.value.http_status == 400
    assert caught.value.detail.startswith("Invalid JSON in subtitle_settings: Expecting property name")


def test_every_bad_field_is_listed() -> None:
    with pytest.raises(ApiError) as caught:
        subtitle_settings_from_json(
            '{"fontSize": 40.5, "textColor": "#GGGGGG", "outlineColor": "black", "shadowDepth": 5,'
            ' "glowBlur": "3", "adaptiveSizing": "yes", "fontFamily": ", ,"}'
        )
    fields = {v.field for v in caught.value.violations}
    assert fields == {
        "subtitle_settings.fontSize",
        "subtitle_settings.textColor",
        "subtitle_settings.outlineColor",
        "subtitle_settings.shadowDepth",
        "subtitle_settings.glowBlur",
        "subtitle_settings.adaptiveSizing",
        "subtitle_settings.fontFamily",
    }


def test_settings_must_be_an_object() -> None:
    with pytest.raises(ApiError) as caught:
        subtitle_settings_from_json("[1, 2]")
    assert caught.value.violations[0].field == "subtitle_settings"


MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
MKV = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"
AVI = b"RIFF\x00\x00\x00\x00AVI LIST"
WAV = b"RIFF\x24\x08\x00\x00WAVEfmt "
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00"
ADTS = b"\xff\xf1\x50\x80\x02\x1f\xfc"
SRT = "1\n00:00:00,000 --> 00:00:01,500\nHéllo wörld\n".encode()


@pytest.mark.parametrize(
    ("kind", "head", "accepted"),
    [
        (MediaKind.VIDEO, MP4, True),
        (MediaKind.VIDEO, MKV, True),
        (MediaKind.VIDEO, AVI, True),
        (MediaKind.VIDEO, WAV, False),
        (MediaKind.VIDEO, b"<html><body>hi</body></html>", False),
        (MediaKind.VIDEO, b"\x7fELF\x02\x01\x01\x00", False),
        (MediaKind.AUDIO, MP3, True),
        (MediaKind.AUDIO, ADTS, True),
        (MediaKind.AUDIO, WAV, True),
        (MediaKind.AUDIO, MP4, True),
        (MediaKind.AUDIO, b"PK\x03\x04 a zip file", False),
        (MediaKind.SUBTITLES, SRT, True),
        (MediaKind.SUBTITLES, SRT[:-3] + "é".encode()[:1], True),
        (MediaKind.SUBTITLES, MP4, False),
        (MediaKind.SUBTITLES, b"\xff\xfe\x00\x00binary", False),
    ],
)
def test_media_is_recognised_by_its_first_bytes(kind: MediaKind, head: bytes, accepted: bool) -> None:
    assert matches(kind, head) is accepted
