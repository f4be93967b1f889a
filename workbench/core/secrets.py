"""Keeping passwords out of everything shown: URLs and messages pass through here first."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import URL

_URL_PASSWORD = re.compile(
    r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<password>[^@\s]+)(?P<tail>@)"
)


def mask_url(url: str | URL) -> str:
    """Render a database URL with its password replaced by ``***``.

    A URL text with no user part has no password: it is shown as it is, without importing
    SQLAlchemy to render it.
    """
    if isinstance(url, str) and "@" not in url and "?" not in url:
        return url
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return mask_passwords(str(url))


def mask_passwords(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every URL password and every known secret in text by ``***``.

    Drivers and SQLAlchemy echo URLs in some messages, so every message passes through here.
    """
    text = _URL_PASSWORD.sub(r"\g<head>***\g<tail>", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
