"""References within one document, rewritten to JSON pointers from its root.

A ``$ref`` may name a plain-name anchor (``#foo``), a pointer inside an embedded
resource (``$id`` scopes it), or that resource by its URI (``node``,
``urn:uuid:...``, ``http://example.com/b.json#/$defs/x``). Before the walk, every
reference that the document itself resolves is rewritten to ``#`` plus the JSON
pointer of its target from the document root, so the converter never needs a base
URI. References it does not resolve are left as they are (the converter refuses them).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urldefrag, urljoin

from wafer_grammar.convert.json_schema.keywords import child
from wafer_grammar.errors import UnsupportedSchema

#: Keywords whose values are data, not schemas: never searched for ``$id`` or ``$ref``.
_DATA = frozenset({"enum", "const", "examples", "default"})
_ROOT_BASE = "wafer-grammar:/root.json"


def _join(base: str, ref: str) -> tuple[str, str]:
    """``ref`` against ``base``: (resource URI, fragment). ``urljoin`` ignores ``urn:``."""
    if ref.startswith("#"):
        return base, unquote(ref[1:])
    if ":" in ref.split("/", 1)[0]:
        uri, frag = urldefrag(ref)
    else:
        uri, frag = urldefrag(urljoin(base, ref))
    return uri, unquote(frag)


class _Index:
    def __init__(self) -> None:
        self.resources: dict[str, str] = {}  # resource URI -> pointer
        self.anchors: dict[tuple[str, str], str] = {}  # (resource URI, anchor) -> pointer
        self.refs: list[tuple[dict[str, Any], str, str]] = []  # (node, base, pointer)
        self.dynamic_refs: list[tuple[dict[str, Any], str, str]] = []
        self.dynamic_anchors: dict[str, int] = {}  # name -> how many declare it

    def walk(self, node: Any, base: str, pointer: str) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                self.walk(item, base, child(pointer, i))
            return
        if not isinstance(node, dict):
            return
        if isinstance(node.get("$id"), str) and pointer:
            base = _join(base, node["$id"])[0]
            self.resources.setdefault(base, pointer)
        for key in ("$anchor", "$dynamicAnchor"):
            if isinstance(node.get(key), str):
                self.anchors.setdefault((base, node[key]), pointer)
        if isinstance(node.get("$ref"), str):
            self.refs.append((node, base, pointer))
        if isinstance(node.get("$dynamicRef"), str):
            self.dynamic_refs.append((node, base, pointer))
        if isinstance(node.get("$dynamicAnchor"), str):
            name = node["$dynamicAnchor"]
            self.dynamic_anchors[name] = self.dynamic_anchors.get(name, 0) + 1
        for key, value in node.items():
            if key not in _DATA:
                self.walk(value, base, child(pointer, key))


def rewrite_refs(schema: Any) -> Any:
    """``schema`` with every reference it resolves itself as ``#`` + a root JSON pointer.

    Raises:
        UnsupportedSchema: a reference names an anchor that does not exist.
    """
    if not isinstance(schema, dict):
        return schema
    schema = _copy(schema)
    index = _Index()
    root_base = _ROOT_BASE
    if isinstance(schema.get("$id"), str):
        root_base = _join(_ROOT_BASE, schema["$id"])[0]
    index.resources[root_base] = ""
    index.walk(schema, root_base, "")
    for node, base, pointer in index.refs:
        uri, frag = _join(base, node["$ref"])
        if uri not in index.resources:
            continue  # outside the document: the converter refuses it
        start = index.resources[uri]
        if frag == "" or frag.startswith("/"):
            node["$ref"] = "#" + quote(start + frag, safe="/~$")
        elif (uri, frag) in index.anchors:
            node["$ref"] = "#" + quote(index.anchors[(uri, frag)], safe="/~$")
        else:
            raise UnsupportedSchema(
                "$ref", pointer, f'names the anchor "{frag}", which this schema does not define'
            )
    for node, base, _ in index.dynamic_refs:
        _static_dynamic_ref(node, base, index)
    return schema


def _static_dynamic_ref(node: dict[str, Any], base: str, index: _Index) -> None:
    """A ``$dynamicRef`` as the ``$ref`` it is when no dynamic scope can change it.

    Dynamic resolution only ever picks a resource declaring ``$dynamicAnchor`` with the
    fragment's name; with at most one in the document it picks the reference's own
    target (or, when that is no dynamic anchor, nothing else): the plain ``$ref``. Left
    as it is otherwise (the converter refuses it).
    """
    uri, frag = _join(base, node["$dynamicRef"])
    if uri not in index.resources:
        return
    start = index.resources[uri]
    if frag == "" or frag.startswith("/"):
        target = start + frag
    elif index.dynamic_anchors.get(frag, 0) <= 1 and (uri, frag) in index.anchors:
        target = index.anchors[(uri, frag)]
    else:
        return
    del node["$dynamicRef"]
    node["allOf"] = [*node.get("allOf", []), {"$ref": "#" + quote(target, safe="/~$")}]


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (v if k in _DATA else _copy(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node
