"""Read (and rewrite) the plugin's state from outside: its status above all.

The plugin's state (juce_project/StateCodec.cpp) is JUCE's
`copyXmlToBinary` format: b"VC2!", a little-endian uint32 size, then UTF-8 XML

    <NNPLUG version="1" model_path=".." model_sha256=".."> <PARAM id=".." value=".."/>...
      <STATUS loaded="1" failed="0" message=".." state_message=".." model_name=".." latency=".."
              buffer_size=".." method="forward|encode>decode" controls="name|name" model_delay=".." .../>
    </NNPLUG>

STATUS is written with every state and ignored when one is restored: it is how a host (or a
test) learns that a model was refused or failed while playing, and why. Hosts wrap it:
pedalboard's `raw_state` is a VST3 container, itself copyXmlToBinary XML
(<VST3PluginState><IComponent>SIZE.BASE64</IComponent>), whose IComponent holds the plugin's
component state in JUCE's MemoryBlock base64 (followed by JUCE's private data).

    status = plugin_status(host.raw_state)        # PluginStatus(loaded, failed, message, ...)
    host.raw_state = with_state_fields(host.raw_state, model_path="/x.ts")
"""
from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Dict, Optional, Tuple
from nnplug.errors import NnplugError

MAGIC = b"VC2!"
_B64 = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
_B64_INDEX = {c: i for i, c in enumerate(_B64)}


class StateFormatError(NnplugError, ValueError):
    """The bytes are not a state in the format described above."""


def juce_b64decode(text: str) -> bytes:
    """juce::MemoryBlock::fromBase64Encoding: "SIZE." then 6 bits per character, LSB first."""
    size_text, dot, body = text.strip().partition(".")
    if not dot or not size_text.isdigit():
        raise StateFormatError("not JUCE base64 (no 'SIZE.' prefix)")
    size = int(size_text)
    value, shift = 0, 0
    for ch in body:
        if ch in _B64_INDEX:
            value |= _B64_INDEX[ch] << shift
            shift += 6
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little") if size else b""


def juce_b64encode(data: bytes) -> str:
    """juce::MemoryBlock::toBase64Encoding."""
    value = int.from_bytes(data, "little")
    chars = (len(data) * 8) // 6 + 3
    return f"{len(data)}." + "".join(_B64[(value >> (6 * i)) & 63] for i in range(chars))


def unwrap_xml_binary(data: bytes) -> str:
    """The XML text of a copyXmlToBinary blob."""
    if len(data) < 8 or data[:4] != MAGIC:
        raise StateFormatError("not a JUCE XML state (no VC2! header)")
    (size,) = struct.unpack("<I", data[4:8])
    if size > len(data) - 8:
        raise StateFormatError(f"XML state claims {size} bytes, holds {len(data) - 8}")
    return data[8:8 + size].split(b"\0", 1)[0].decode("utf-8")


def wrap_xml_binary(xml_text: str) -> bytes:
    """copyXmlToBinary: header, size (of the XML, without the NUL that follows it), XML, NUL."""
    body = xml_text.encode("utf-8")
    return MAGIC + struct.pack("<I", len(body)) + body + b"\0"


def _split_component(component: bytes) -> Tuple[bytes, bytes]:
    """The plugin's own blob, and what JUCE's VST3 wrapper appended (its private data)."""
    if component[:4] != MAGIC:
        raise StateFormatError("the VST3 component state is not the nnplug plugin's XML state")
    (size,) = struct.unpack("<I", component[4:8])
    end = 8 + size
    if component[end:end + 1] == b"\0":
        end += 1
    return component[:end], component[end:]


def _xml(text: str) -> ET.Element:
    """ElementTree on JUCE's XML: JUCE writes control characters (which a fuzzed or hostile
    state can carry into attribute values) as character references XML 1.0 forbids."""
    def keep(m: "re.Match[str]") -> str:
        code = int(m.group(1)[1:], 16) if m.group(1)[0] in "xX" else int(m.group(1))
        return m.group(0) if code in (9, 10, 13) or code >= 32 else "\ufffd"
    return ET.fromstring(re.sub(r"&#([xX][0-9a-fA-F]+|[0-9]+);", keep, text))


def plugin_state_blob(raw: bytes) -> bytes:
    """The plugin's own state (getStateInformation's bytes) from a host's state: pedalboard's
    `raw_state` (VST3 container) or the plugin's blob itself."""
    text = unwrap_xml_binary(raw)
    root = _xml(text)
    if root.tag == "NNPLUG":
        return raw
    if root.tag == "VST3PluginState":
        comp = root.find("IComponent")
        if comp is None or not (comp.text or "").strip():
            raise StateFormatError("VST3 state without an IComponent")
        return _split_component(juce_b64decode(comp.text))[0]
    raise StateFormatError(f"unknown state container <{root.tag}>")


def plugin_state_xml(raw: bytes) -> ET.Element:
    """The <NNPLUG> element of a host's state."""
    root = _xml(unwrap_xml_binary(plugin_state_blob(raw)))
    if root.tag != "NNPLUG":
        raise StateFormatError(f"not an nnplug state (<{root.tag}>)")
    return root


@dataclass(frozen=True)
class PluginStatus:
    loaded: bool            # a model is loaded and playing (or fading in)
    failed: bool            # the model was refused, or failed while playing
    message: str            # the error (failed) or warning; "" when all is well
    state_message: str      # why the last state restored was (partly) ignored; "" when it was all used
    model_name: str
    model_file: str
    latency: int
    buffer_size: int
    attributes: Dict[str, str]
    method: str = ""                    # the audio path played: "forward" or "encode>decode" ("": not said)
    model_delay: Optional[int] = None   # the model delay the latency includes (None: not said)
    controls: Tuple[str, ...] = ()      # what "Model control k" is for the loaded model, in order

    @property
    def ok(self) -> bool:
        return self.loaded and not self.failed


def plugin_status(raw: bytes) -> PluginStatus:
    """The STATUS the plugin wrote into its state (see the module docstring)."""
    st = plugin_state_xml(raw).find("STATUS")
    if st is None:
        raise StateFormatError("the plugin state has no STATUS element (a plugin built before it existed?)")
    a = dict(st.attrib)
    return PluginStatus(loaded=a.get("loaded") == "1", failed=a.get("failed") == "1", message=a.get("message", ""),
                        state_message=a.get("state_message", ""), model_name=a.get("model_name", ""),
                        model_file=a.get("model_file", ""), latency=int(float(a.get("latency", "0") or 0)),
                        buffer_size=int(float(a.get("buffer_size", "0") or 0)), attributes=a,
                        method=a.get("method", ""),
                        model_delay=int(float(a["model_delay"])) if a.get("model_delay") else None,
                        controls=tuple(c for c in a.get("controls", "").split("|") if c))


def without_status(raw: bytes) -> bytes:
    """The plugin's state minus STATUS: what restoring it sets (for 'state unchanged' checks)."""
    root = plugin_state_xml(raw)
    for st in root.findall("STATUS"):
        root.remove(st)
    return ET.tostring(root, encoding="utf-8")


def rewrap(raw: bytes, plugin_blob: bytes) -> bytes:
    """`raw` (a host's state) with the plugin's own blob replaced by `plugin_blob`, which may be
    any bytes at all (for fuzzing: the host container stays valid, the plugin sees the junk)."""
    text = unwrap_xml_binary(raw)
    root = _xml(text)
    if root.tag == "NNPLUG":
        return plugin_blob
    comp = root.find("IComponent")
    if comp is None:
        raise StateFormatError("VST3 state without an IComponent")
    _, private = _split_component(juce_b64decode(comp.text or ""))
    comp.text = juce_b64encode(plugin_blob + private)
    return wrap_xml_binary('<?xml version="1.0" encoding="UTF-8"?> ' + ET.tostring(root, encoding="unicode"))


def with_state_fields(raw: bytes, params: Optional[Dict[str, str]] = None, **attrs: str) -> bytes:
    """`raw` with attributes of <NNPLUG> (model_path=..., model_sha256=..., version=...) and
    PARAM values (params={"dry_wet": "40"}) replaced."""
    root = plugin_state_xml(raw)
    for k, v in attrs.items():
        root.set(k, str(v))
    for p in root.findall("PARAM"):
        if params and p.get("id") in params:
            p.set("value", str(params[p.get("id")]))
    blob = wrap_xml_binary('<?xml version="1.0" encoding="UTF-8"?> ' + ET.tostring(root, encoding="unicode"))
    return rewrap(raw, blob)
