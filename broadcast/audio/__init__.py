"""Bulletin audio: assembly with jingles and an optional ducked bed, mastering, MP3 delivery.

Typical use::

    from broadcast.audio import Part, Tags, render
    result = render(parts, station.audio, out_mp3, Tags(title, station.name, date, sources))
"""

from broadcast.audio.encode import Tags, bulletin_tags
from broadcast.audio.ffmpeg import ffmpeg_version, find_ffmpeg
from broadcast.audio.measure import decode_mono, measure, measure_loudness
from broadcast.audio.mix import Part, TimelineEntry
from broadcast.audio.render import RenderResult, length_warning, render

__all__ = [
    "Part",
    "RenderResult",
    "Tags",
    "TimelineEntry",
    "bulletin_tags",
    "decode_mono",
    "ffmpeg_version",
    "find_ffmpeg",
    "length_warning",
    "measure",
    "measure_loudness",
    "render",
]
