"""Exceptions the user can act on; the CLI turns them into one clear line."""

from __future__ import annotations


class BroadcastError(Exception):
    """Something the user must fix; the message says what and how."""

    exit_code = 1


class ConfigError(BroadcastError):
    """The configuration file is invalid."""

    exit_code = 2


class ParameterError(BroadcastError):
    """A value the caller gave (a slot, a name) is wrong."""

    exit_code = 2


class FeedError(BroadcastError):
    """A feed could not be fetched or parsed."""


class TemplateError(BroadcastError):
    """A script template is missing or broken."""


class SpeechError(BroadcastError):
    """No speech engine could speak a segment."""

    exit_code = 3


class AudioError(BroadcastError):
    """Audio could not be mixed, mastered or encoded (ffmpeg missing or failing)."""

    exit_code = 3


class StoreCorruptError(BroadcastError):
    """The SQLite database is damaged; the message says how to start a new one."""

    exit_code = 2


class DiskFullError(BroadcastError):
    """A disk (or quota) is full: nothing more can be written until space is freed."""

    exit_code = 74  # EX_IOERR


class AudioDiskFullError(AudioError, DiskFullError):
    """ffmpeg ran out of disk space while writing audio."""

    exit_code = 74


class LockedError(BroadcastError):
    """Another run holds the lock."""

    exit_code = 75
