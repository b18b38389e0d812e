"""ObjectMeta checks the kube-apiserver applies to every custom resource."""

from __future__ import annotations

import re
from typing import Any, Final

from shared.policy.verdict import INVALID, REQUIRED, TOO_LONG, Violation, too_long

DNS1123_SUBDOMAIN: Final = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
DNS1123_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE: Final = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME: Final = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

SUBDOMAIN_MSG: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG: Final = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE_MSG: Final = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',"
    "  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
QUALIFIED_NAME_MSG: Final = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)

#: ObjectMeta fields; anything else under metadata is an unknown field.
OBJECT_META_FIELDS: Final = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)


def _key_errors(key: str, path: str) -> list[Violation]:
    prefix, _, name = key.rpartition("/")
    errs: list[Violation] = []
    if len(name) > 63 or not _QUALIFIED_NAME.match(name):
        detail = (
            "name part must be no more than 63 characters" if len(name) > 63 else QUALIFIED_NAME_MSG
        )
        errs.append(Violation(path, INVALID, detail, "metadata:key", key))
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        errs.append(Violation(path, INVALID, "prefix part " + SUBDOMAIN_MSG, "metadata:key", key))
    return errs


def validate_metadata(meta: Any, namespaced: bool) -> list[Violation]:
    """metadata.name (DNS-1123 subdomain), namespace, label and annotation keys/values."""
    if meta is None:  # the apiserver decodes a missing metadata as an empty ObjectMeta
        meta = {}
    if not isinstance(meta, dict):
        return [Violation("metadata", REQUIRED, "", "metadata:required")]
    errs: list[Violation] = []
    name = meta.get("name")
    if not name and not meta.get("generateName"):
        errs.append(
            Violation(
                "metadata.name", REQUIRED, "name or generateName is required", "metadata:name"
            )
        )
    elif isinstance(name, str) and name:
        if len(name) > 253:
            errs.append(
                Violation(
                    "metadata.name",
                    INVALID,
                    "must be no more than 253 characters",
                    "metadata:name",
                    name,
                )
            )
        elif not DNS1123_SUBDOMAIN.match(name):
            errs.append(Violation("metadata.name", INVALID, SUBDOMAIN_MSG, "metadata:name", name))
    elif name is not None and not isinstance(name, str):
        errs.append(Violation("metadata.name", INVALID, "must be a string", "metadata:name", name))
    namespace = meta.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        errs.append(
            Violation(
                "metadata.namespace", INVALID, "must be a string", "metadata:namespace", namespace
            )
        )
    elif (
        namespaced
        and isinstance(namespace, str)
        and namespace
        and not DNS1123_LABEL.match(namespace)
    ):
        errs.append(
            Violation("metadata.namespace", INVALID, LABEL_MSG, "metadata:namespace", namespace)
        )
    labels = meta.get("labels")
    if isinstance(labels, dict):
        for key, value in labels.items():
            errs += _key_errors(str(key), "metadata.labels")
            text = "" if value is None else str(value)
            if len(text) > 63:
                errs.append(
                    Violation(
                        "metadata.labels",
                        INVALID,
                        "must be no more than 63 characters",
                        "metadata:label",
                        text,
                    )
                )
            elif not _LABEL_VALUE.match(text):
                errs.append(
                    Violation("metadata.labels", INVALID, LABEL_VALUE_MSG, "metadata:label", text)
                )
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        total = 0
        for key, value in annotations.items():
            errs += _key_errors(str(key), "metadata.annotations")
            total += len(str(key)) + len(str(value))
        if total > 256 * 1024:
            errs.append(
                Violation(
                    "metadata.annotations",
                    TOO_LONG,
                    too_long(262144),
                    "metadata:annotations",
                    "",
                )
            )
    return errs
