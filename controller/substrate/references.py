"""What an object references: reading it (typed errors for the missing and the unreadable)
and the reference index both kinds use (their WorkerPool).

Each kind indexes its own spec's references (`harness.references`, `sandboxagent.references`);
the watches map an event on a referenced object back to the objects through those indexes.
"""

from __future__ import annotations

from typing import Any, Final

from controller.runtime.cache import CachedReader, Reader
from controller.runtime.sources import ref_value
from controller.substrate.defaults import SubstrateDefaults
from controller.substrate.outcome import MissingReference, UnreadableReference
from shared.kube import errors as kerr
from shared.kube.resources import CONFIG_MAP, MODEL_CONFIG, SECRET, WORKER_POOL, Resource
from shared.kube.watching import IndexFunc

KINDS: Final = {SECRET: "Secret", CONFIG_MAP: "ConfigMap", WORKER_POOL: "WorkerPool"}
KINDS[MODEL_CONFIG] = "ModelConfig"


def kind_of(res: Resource) -> str:
    """The Kind of a referenced resource (``Secret``, ``WorkerPool``, ...)."""
    return KINDS.get(res, res.plural)


async def read_reference(
    client: Reader,
    res: Resource,
    namespace: str,
    name: str,
    *,
    field: str,
    what: str = "",
    missing: str = "",
) -> dict[str, Any]:
    """GET a referenced object; `MissingReference` when it does not exist (terminal when a watch
    covers it), `UnreadableReference` when the controller may not read it.

    ``field`` is the spec field holding the reference (for the fix); ``what`` prefixes the
    condition message (default: the Kind); ``missing`` replaces that message when not found.
    """
    kind = kind_of(res)
    where = f"{kind} {namespace}/{name}"
    try:
        return await client.get(res, name, namespace)
    except kerr.NotFound:
        error = MissingReference(
            missing or f"{what or kind} {namespace}/{name} not found",
            reason=f"{kind}NotFound",
            fix=f"create {where} or change {field}",
        )
        # Terminal only when a watch will report its creation (e.g. not a default WorkerPool
        # outside --namespace): otherwise wait the resync period.
        error.terminal = not isinstance(client, CachedReader) or client.covers(res, namespace)
        raise error from None
    except kerr.Forbidden:
        raise UnreadableReference(
            f"{what or kind} {namespace}/{name} cannot be read: the controller is forbidden to "
            f"get {res.plural}",
            reason=f"{kind}Unreadable",
            fix=f"grant the controller's ServiceAccount get, list and watch on {res.plural} "
            f"in {namespace}",
        ) from None


def missing_key(
    res: Resource, namespace: str, name: str, key: str, message: str
) -> MissingReference:
    """A referenced Secret/ConfigMap lacks ``key`` (or it is empty): ``message`` is the condition."""
    kind = kind_of(res)
    return MissingReference(
        message,
        reason=f"{kind}KeyMissing",
        fix=f'put a non-empty "{key}" in {kind} {namespace}/{name}',
    )


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def namespace_of(obj: dict[str, Any]) -> str:
    """The object's namespace ("" when unset)."""
    return str((obj.get("metadata") or {}).get("namespace") or "")


def pool_refs(defaults: SubstrateDefaults) -> Any:
    """An index function giving the object's WorkerPool (``spec.substrate.workerPoolRef`` or
    the default)."""

    def index(obj: dict[str, Any]) -> list[str]:
        ref = str(
            ((_spec(obj).get("substrate") or {}).get("workerPoolRef") or {}).get("name") or ""
        ).strip()
        if ref:
            return [ref_value(namespace_of(obj), ref)]
        if defaults.worker_pool_name:
            return [
                ref_value(
                    defaults.worker_pool_namespace or namespace_of(obj), defaults.worker_pool_name
                )
            ]
        return []

    return index


def indexers(
    secrets: IndexFunc, configmaps: IndexFunc, modelconfigs: IndexFunc, defaults: SubstrateDefaults
) -> dict[str, IndexFunc]:
    """A kind's reference indexes by the names `controller.substrate.watches` maps through
    (the WorkerPool index is the same for both kinds)."""
    return {
        "secrets": secrets,
        "configmaps": configmaps,
        "modelconfigs": modelconfigs,
        "workerpools": pool_refs(defaults),
    }
