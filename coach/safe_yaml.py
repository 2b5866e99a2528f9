"""YAML read with bounds: no aliases, limited depth, node count and size, in linear time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coach import limits
from coach.errors import InputError


def _loader() -> Any:
    import yaml

    # libyaml's parser, where PyYAML was built with it, is about 20x faster than the pure-Python one.
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_shape(text: str, shown: str, depth: int = limits.YAML_DEPTH, nodes: int = limits.YAML_NODES) -> None:
    """Refuse aliases, deep nesting and too many nodes before anything is built.

    The check walks the parser's events, so it costs one pass over the text: an alias bomb is
    refused before a single alias is expanded.

    Raises:
        InputError: naming the file and the limit that was crossed.
    """
    import yaml

    level = 0
    count = 0
    try:
        for event in yaml.parse(text, Loader=_loader()):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise InputError(shown, "", "YAML anchors and aliases (& and *) are not accepted; write each value out")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                level += 1
                if level > depth:
                    raise InputError(shown, "", f"nesting deeper than {depth} levels is not accepted")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                level -= 1
            if isinstance(event, yaml.NodeEvent):
                count += 1
                if count > nodes:
                    raise InputError(shown, "", f"more than {nodes:,} values in one file is not accepted")
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        if "flow level" in first or "depth" in first:
            # libyaml stops very deep flow collections ("[[[[...") itself, before any event.
            raise InputError(shown, "", f"nesting deeper than {depth} levels is not accepted") from None
        raise InputError(shown, "", f"expected YAML ({first})") from None


def loads(text: str, shown: str, max_bytes: int = limits.YAML_FILE_BYTES) -> Any:
    """Parse YAML text within the limits; raises InputError naming `shown`."""
    import yaml

    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise InputError(shown, "", f"file larger than {max_bytes // 1024} KB is not accepted")
    check_shape(text, shown)
    try:
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        raise InputError(shown, "", f"expected YAML ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise InputError(shown, "", f"nesting deeper than {limits.YAML_DEPTH} levels is not accepted") from None


def load_file(path: str | Path, shown: str | None = None, max_bytes: int = limits.YAML_FILE_BYTES) -> Any:
    """Read and parse a YAML file within the limits; raises InputError naming the file."""
    path = Path(path)
    shown = shown or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(shown, "", f"file of {size // 1024} KB is larger than {max_bytes // 1024} KB")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(shown, "", f"cannot read the file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(shown, "", "expected a UTF-8 text YAML file") from None
    return loads(text, shown, max_bytes)
