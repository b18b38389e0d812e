"""Bearer token file: read and trimmed on every call so a rotated token is used at once."""

from __future__ import annotations

from pathlib import Path

from shared.ateapi.errors import TokenFileError
from shared.secrets import Secret


def read_token(path: Path) -> Secret:
    """Read and trim the token; raise `TokenFileError` for a missing, unreadable or blank file.

    A synchronous read: projected token files are a few hundred bytes on tmpfs, cheaper
    than a thread hop.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TokenFileError(
            "",
            "TOKEN_FILE",
            f'read bearer token file "{path}": {reason}',
            hint="mount the projected service-account token or fix token_file",
        ) from None
    token = raw.strip()
    if not token:
        raise TokenFileError(
            "",
            "TOKEN_FILE",
            f'bearer token file "{path}" is empty',
            hint="the token projection has not been written yet or token_file is wrong",
        )
    return Secret(token)
