"""Hypothesis strategies for admission fuzzing: schema-shaped objects (from the CRD YAML),
realistic substrate harnesses, near-miss mutations of corpus cases, random JSON, huge and deep
documents, AdmissionReview envelopes. Pure data; the test module sends them.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.corpus_cases import cases

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "charts" / "kagent-substrate" / "crds"
DIGEST = "@sha256:" + "0123456789abcdef" * 4
GROUP_VERSION = "kagent.dev/v1alpha2"

# Text: every Unicode category except lone surrogates (an API server never forwards them).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
WEIRD = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "\n",
        "\u00a0",
        "é",
        "日本語",
        "🦀",
        "\u200b",
        "\x00",
        "a" * 300,
        "-",
        "a.b",
        "A",
    ]
)
STRINGS = st.one_of(TEXT, WEIRD)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    STRINGS,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(STRINGS, inner, max_size=5)
    ),
    max_leaves=25,
)
NAMES = st.one_of(st.from_regex(r"\A[a-z]([a-z0-9-]{0,20}[a-z0-9])?\Z"), WEIRD, st.just("claw"))
PATTERNED = {
    "@sha256:[0-9a-f]{64}$": ["ghcr.io/x/claw" + DIGEST, "ghcr.io/x/claw:latest", DIGEST.upper()],
    "^gs://": ["gs://bucket/path", "s3://bucket", "gs://"],
    "\\S": ["token-123", " ", ""],
}


@cache
def crd_schema(kind: str) -> dict[str, Any]:
    """The openAPIV3Schema of one of our CRDs (AgentHarness or SandboxAgent)."""
    for path in sorted(CRDS.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc["spec"]["names"]["kind"] == kind:
            return dict(doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    raise LookupError(kind)


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped by a structural schema: enums, patterns (valid and near-valid), a random
    subset of properties, short arrays. Mostly schema-valid; CEL rules decide the rest."""
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if not props or depth > 6:
            return st.dictionaries(NAMES, STRINGS, max_size=2)
        required = list(schema.get("required") or [])
        return st.fixed_dictionaries(
            {k: from_schema(props[k], depth + 1) for k in required if k in props},
            optional={k: from_schema(v, depth + 1) for k, v in props.items() if k not in required},
        )
    if kind == "array":
        return st.lists(from_schema(schema.get("items") or {}, depth + 1), max_size=3)
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        return st.integers(min_value=-5, max_value=5000)
    if "pattern" in schema and schema["pattern"] in PATTERNED:
        return st.sampled_from(PATTERNED[schema["pattern"]])
    if kind == "string":
        return st.one_of(NAMES, STRINGS)
    return JSON


def _meta(name: str, namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


@st.composite
def schema_objects(draw: st.DrawFn) -> dict[str, Any]:
    """An AgentHarness or SandboxAgent whose spec is generated from its CRD schema."""
    kind = draw(st.sampled_from(["AgentHarness", "SandboxAgent"]))
    spec = draw(from_schema(crd_schema(kind)["properties"]["spec"]))
    ns = draw(st.one_of(st.none(), st.just("team-a"), NAMES))
    return {
        "apiVersion": GROUP_VERSION,
        "kind": kind,
        "metadata": _meta(draw(NAMES), ns),
        "spec": spec,
    }


def _value_source(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"value": draw(st.sampled_from(["xoxb-1", "123:abc", " ", ""]))}
    return {
        "valueFrom": {
            "type": draw(st.sampled_from(["Secret", "ConfigMap"])),
            "name": draw(NAMES),
            "key": draw(st.sampled_from(["token", "bot-token", ""])),
        }
    }


@st.composite
def substrate_harnesses(draw: st.DrawFn) -> dict[str, Any]:
    """A realistic substrate harness (mostly allowed): gateway token, pool, image, channels."""
    backend = draw(st.sampled_from(["openclaw", "nemoclaw", "hermes"]))
    substrate: dict[str, Any] = {}
    if draw(st.booleans()):
        substrate["gatewayTokenSecretRef"] = {"name": draw(NAMES)}
    else:
        substrate["gatewayToken"] = draw(st.sampled_from(["tok-" + "x" * 30, " ", "t"]))
    if draw(st.booleans()):
        substrate["workerPoolRef"] = {"name": draw(NAMES)}
    if draw(st.booleans()):
        substrate["workloadImage"] = draw(st.sampled_from(PATTERNED["@sha256:[0-9a-f]{64}$"]))
    if draw(st.booleans()):
        substrate["snapshotsConfig"] = {"location": draw(st.sampled_from(PATTERNED["^gs://"]))}
    channels = []
    for i in range(draw(st.integers(0, 3))):
        ctype = draw(st.sampled_from(["telegram", "slack"]))
        name = draw(st.sampled_from([f"c{i}", "dup", ""]))
        if ctype == "telegram":
            body: dict[str, Any] = {"botToken": _value_source(draw)}
            if draw(st.booleans()):
                body["allowedUserIDs"] = draw(st.lists(st.sampled_from(["1", "2", ""]), max_size=3))
            channels.append({"name": name, "type": ctype, "telegram": body})
        else:
            body = {"botToken": _value_source(draw), "appToken": _value_source(draw)}
            block = draw(st.sampled_from(["openclaw", "hermes", None]))
            if block == "openclaw":
                body["openclaw"] = draw(
                    from_schema(
                        crd_schema("AgentHarness")["properties"]["spec"]["properties"]["channels"][
                            "items"
                        ]["properties"]["slack"]["properties"]["openclaw"]
                    )
                )
            elif block == "hermes":
                body["hermes"] = {"homeChannel": "C1"}
            channels.append({"name": name, "type": ctype, "slack": body})
    spec: dict[str, Any] = {
        "backend": backend,
        "runtime": draw(st.sampled_from(["substrate", "substrate", "openshell"])),
        "substrate": substrate,
    }
    if channels:
        spec["channels"] = channels
    if draw(st.booleans()):
        spec["description"] = draw(STRINGS)
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "AgentHarness",
        "metadata": _meta(draw(NAMES), draw(st.one_of(st.none(), st.just("team-a")))),
        "spec": spec,
    }


@cache
def corpus_objects() -> tuple[tuple[dict[str, Any], dict[str, Any] | None], ...]:
    """(object, old object or None) for every single-document corpus case."""
    out = []
    for case in cases():
        if case.expect == "error":  # unparseable on purpose
            continue
        try:
            docs = list(yaml.safe_load_all(case.path.read_text(encoding="utf-8")))
        except yaml.YAMLError:
            continue
        if len(docs) != 1 or not isinstance(docs[0], dict):
            continue
        old = yaml.safe_load(case.old.read_text(encoding="utf-8")) if case.old else None
        out.append((docs[0], old if isinstance(old, dict) else None))
    return tuple(out)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def near_misses(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A corpus case with 1-3 mutations: drop, retype, replace with odd text, duplicate a list
    item, rename a key, empty a container. Returns (object, old object or None)."""
    obj, old = draw(st.sampled_from(corpus_objects()))
    obj = copy.deepcopy(obj)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(obj) if p and p[0] not in ("apiVersion", "kind")]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(obj, path), path[-1]
        op = draw(st.sampled_from(["drop", "retype", "text", "dup", "rename", "empty"]))
        if op == "drop":
            del parent[key]
        elif op == "retype":
            parent[key] = draw(JSON)
        elif op == "text":
            parent[key] = draw(STRINGS)
        elif op == "dup" and isinstance(parent[key], list) and parent[key]:
            parent[key].append(copy.deepcopy(parent[key][0]))
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(NAMES)] = parent.pop(key)
        elif op == "empty":
            parent[key] = type(parent[key])() if isinstance(parent[key], dict | list) else None
    return obj, old


def deep(levels: int, leaf: Any = "x") -> Any:
    """``{"a": {"a": ... leaf}}`` nested ``levels`` deep."""
    value: Any = leaf
    for i in range(levels):
        value = {"a": value} if i % 2 else [value]
    return value


@st.composite
def huge_or_deep(draw: st.DrawFn) -> dict[str, Any]:
    """A harness with a huge string, a long list, many keys, or a very deep value."""
    obj = draw(substrate_harnesses())
    shape = draw(st.sampled_from(["string", "list", "keys", "deep", "deep-spec", "channels"]))
    n = draw(st.sampled_from([10, 1000, 50_000]))
    if shape == "string":
        obj["spec"]["description"] = "é" * (n * 20)
    elif shape == "list":
        obj["spec"]["network"] = {"allowedDomains": [f"d{i}.example" for i in range(n)]}
    elif shape == "keys":
        obj["metadata"]["labels"] = {f"k{i}": "v" for i in range(n)}
    elif shape == "deep":
        obj["spec"]["description"] = deep(draw(st.sampled_from([50, 99, 101, 500, 900])))
    elif shape == "deep-spec":
        obj["spec"] = deep(draw(st.sampled_from([50, 101, 500, 900])))
    else:
        obj["spec"]["channels"] = [
            {"name": f"c{i}", "type": "telegram", "telegram": {"botToken": {"value": "t"}}}
            for i in range(min(n, 2000))
        ]
    return obj


RANDOM_OBJECTS = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {
            "apiVersion": st.sampled_from([GROUP_VERSION, "kagent.dev/v1", "v1", ""]),
            "kind": st.sampled_from(["AgentHarness", "SandboxAgent", "ConfigMap", "agentharness"]),
        },
        optional={"metadata": JSON, "spec": JSON, "status": JSON},
    ),
)


ENVELOPE_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.one_of(st.just("admission.k8s.io/v1"), SCALARS),
        "kind": st.one_of(st.just("AdmissionReview"), SCALARS),
        "uid": st.one_of(st.just("u-1"), SCALARS),
        "operation": st.one_of(st.sampled_from(["CREATE", "UPDATE", "DELETE", "CONNECT"]), SCALARS),
        "object": JSON,
        "oldObject": JSON,
        "namespace": st.one_of(st.just("default"), SCALARS),
        "name": SCALARS,
        "kind_gvk": JSON,
        "dryRun": SCALARS,
    },
)
