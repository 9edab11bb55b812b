"""The C audio helpers pydub also uses (stdlib audioop; audioop-lts on Python 3.13+)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # Deprecated in the stdlib since 3.11 but present until 3.13, where the
    # audioop-lts package (a project dependency there) provides the same module.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # noqa: F401

__all__ = ["audioop"]
