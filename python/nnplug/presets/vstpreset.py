"""The VST3 preset file format (.vstpreset), written and read here without the SDK.

    header  'VST3'  int32 version (1)  char[32] class ID (ASCII hex)  int64 offset of the chunk list
    data    the chunks' bytes
    list    'List'  int32 count  count x (char[4] id, int64 offset, int64 size)

Chunks: 'Comp' the component state (for a JUCE plugin: AudioProcessor::getStateInformation,
i.e. "VC2!", uint32 length, the state XML, NUL), 'Cont' the controller state (empty for
JUCE plugins), 'Info' meta information (an XML <MetaInfo> of <Attr id= value= .../>).
All integers little-endian.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Dict, Optional
from xml.sax.saxutils import quoteattr
from nnplug.errors import NnplugError

HEADER = struct.Struct("<4si32sq")
ENTRY = struct.Struct("<4sqq")
XML_MAGIC = b"VC2!"
MAX_CHUNKS = 64


class PresetFormatError(NnplugError, ValueError):
    pass


@dataclass
class VstPreset:
    class_id: str                       # 32 ASCII hex characters
    chunks: Dict[str, bytes] = field(default_factory=dict)

    @property
    def component(self) -> bytes:
        return self.chunks.get("Comp", b"")


def state_to_xml(component: bytes) -> str:
    """The XML text inside a JUCE component state (copyXmlToBinary), private data ignored."""
    if len(component) <= 8 or component[:4] != XML_MAGIC:
        raise PresetFormatError("component state is not a JUCE XML state (no 'VC2!' header)")
    (length,) = struct.unpack("<I", component[4:8])
    if length <= 0 or length > len(component) - 8:
        raise PresetFormatError("component state's XML length is out of bounds")
    return component[8:8 + length].decode("utf-8")


def xml_to_state(xml: str) -> bytes:
    """AudioProcessor::copyXmlToBinary: magic, length of the text, the text, a NUL."""
    data = xml.encode("utf-8")
    return XML_MAGIC + struct.pack("<I", len(data)) + data + b"\0"


def meta_info(attrs: Dict[str, str]) -> bytes:
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<MetaInfo>"]
    for k, v in attrs.items():
        lines.append(f'\t<Attr id={quoteattr(k)} value={quoteattr(str(v))} type="string"/>')
    lines.append("</MetaInfo>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write(preset: VstPreset) -> bytes:
    cid = preset.class_id.encode("ascii")
    if len(cid) != 32:
        raise PresetFormatError(f"class ID must be 32 characters, got {len(cid)}")
    body, entries = bytearray(), []
    for cid4, data in preset.chunks.items():
        offset = HEADER.size + len(body)
        body += data
        entries.append(ENTRY.pack(cid4.encode("ascii"), offset, len(data)))
    list_offset = HEADER.size + len(body)
    out = HEADER.pack(b"VST3", 1, cid, list_offset) + bytes(body)
    out += b"List" + struct.pack("<i", len(entries)) + b"".join(entries)
    return out


def read(data: bytes) -> VstPreset:
    if len(data) < HEADER.size + 8:
        raise PresetFormatError("too short for a .vstpreset")
    magic, _version, cid, list_offset = HEADER.unpack_from(data)
    if magic != b"VST3":
        raise PresetFormatError("no 'VST3' header")
    if not (HEADER.size <= list_offset <= len(data) - 8) or data[list_offset:list_offset + 4] != b"List":
        raise PresetFormatError("chunk list missing or out of bounds")
    (count,) = struct.unpack_from("<i", data, list_offset + 4)
    if not (0 <= count <= MAX_CHUNKS) or list_offset + 8 + count * ENTRY.size > len(data):
        raise PresetFormatError("chunk list entries out of bounds")
    chunks: Dict[str, bytes] = {}
    for i in range(count):
        cid4, offset, size = ENTRY.unpack_from(data, list_offset + 8 + i * ENTRY.size)
        if offset < HEADER.size or size < 0 or offset + size > len(data):
            raise PresetFormatError(f"chunk {cid4!r} out of bounds")
        chunks.setdefault(cid4.decode("latin-1"), bytes(data[offset:offset + size]))
    return VstPreset(cid.decode("ascii", "replace"), chunks)


def info_attrs(preset: VstPreset) -> Dict[str, str]:
    import xml.etree.ElementTree as ET
    raw = preset.chunks.get("Info")
    if not raw:
        return {}
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return {}
    return {a.get("id", ""): a.get("value", "") for a in root.iter("Attr")}


def preset_name(preset: VstPreset) -> Optional[str]:
    return info_attrs(preset).get("Name") or None
