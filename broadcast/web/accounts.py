"""Review desk accounts: argon2id password hashes, server-side sessions, failed-login records.

Everything lives in the station database (migration 3), so the desk needs
no other file and an account created with `broadcast user add` is seen by
a desk already running.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from broadcast.errors import BroadcastError
from broadcast.store import Store, from_db_time, to_db_time

ROLES = ("staff", "province", "admin")
ROLE_LABELS = {"staff": "cán bộ đài", "province": "cán bộ tỉnh", "admin": "quản trị"}
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
# argon2id (the library's default type) with its recommended cost: about 50 ms and 64 MiB per login.
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class AccountError(BroadcastError):
    """An account cannot be created or changed as asked."""


@dataclass
class User:
    """A desk account and what it may see."""

    name: str
    role: str
    stations: list[str] = field(default_factory=list)
    disabled: bool = False

    @property
    def sees_all(self) -> bool:
        """Province and admin accounts see every station."""
        return self.role in ("province", "admin")

    def can_see(self, station_id: str) -> bool:
        """Whether this account may see and change a station's bulletins."""
        return self.sees_all or station_id in self.stations

    @property
    def manages_accounts(self) -> bool:
        return self.role == "admin"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


@dataclass
class Session:
    """A logged-in browser: who, and the token its forms must carry."""

    user: User
    csrf: str
    expires_at: dt.datetime


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user_name(name: str) -> str:
    """Validate an account name; return it."""
    if not USER_NAME.fullmatch(name or ""):
        raise AccountError("Tên tài khoản chỉ gồm chữ thường không dấu, số, '.', '-' hoặc '_' "
                           "(ví dụ \"lan.hoaphu\"), tối đa 64 ký tự.")
    return name


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")


def login_key(name: str, address: str) -> str:
    """The failed-login record of one account name tried from one address."""
    # The name comes first and ends at a character no account name has, so the admin's reset finds
    # every address's record of a name by its prefix.
    return f"pair:{name}\n{address}"


class Accounts:
    """Accounts, sessions and failed logins in one station database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # ------------------------------------------------------------ accounts

    def add(self, name: str, password: str, role: str, stations: list[str], now: dt.datetime, *,
            replace: bool = False) -> User:
        """Create an account (or replace one, with `replace`)."""
        check_user_name(name)
        check_password(password)
        if role not in ROLES:
            raise AccountError("Vai trò phải là staff (cán bộ đài), province (cán bộ tỉnh) hoặc admin (quản trị).")
        if role == "staff" and not stations:
            raise AccountError("Tài khoản cán bộ đài cần ít nhất một đài: hãy chọn đài (trên dòng lệnh: --station MÃ_ĐÀI).")
        stations = list(dict.fromkeys(stations))
        exists = self.user(name) is not None
        if exists and not replace:
            raise AccountError(f"Đã có tài khoản '{name}'. Dùng 'broadcast user passwd {name}' để đổi mật khẩu, "
                               f"hoặc xóa bằng 'broadcast user remove {name}' rồi tạo lại.")
        stamp = to_db_time(now)
        with self.store._write():
            if exists:
                self.db.execute("DELETE FROM desk_users WHERE name = ?", (name,))
            self.db.execute(
                "INSERT INTO desk_users (name, password_hash, role, stations, disabled, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 0, ?, ?)",
                (name, _HASHER.hash(password), role, json.dumps(stations), stamp, stamp))
        return User(name, role, stations)

    def set_password(self, name: str, password: str, now: dt.datetime) -> None:
        """Change a password, end the account's sessions and lift its login lockout."""
        self.existing(name)
        check_password(password)
        with self.store._write():
            self.db.execute("UPDATE desk_users SET password_hash = ?, updated_at = ? WHERE name = ?",
                            (_HASHER.hash(password), to_db_time(now), name))
            self.db.execute("DELETE FROM desk_sessions WHERE user = ?", (name,))
            # The lockout message sends staff to the admin for a new password: it must work at once,
            # from every address.
            self.db.execute("DELETE FROM desk_login_failures WHERE who = ? OR substr(who, 1, ?) = ?",
                            (f"user:{name}", len(login_key(name, "")), login_key(name, "")))

    def remove(self, name: str) -> None:
        """Delete an account and its sessions."""
        with self.store._write():
            cur = self.db.execute("DELETE FROM desk_users WHERE name = ?", (name,))
            self.db.execute("DELETE FROM desk_sessions WHERE user = ?", (name,))
        if cur.rowcount == 0:
            raise AccountError(f"Không có tài khoản '{name}'.")

    def existing(self, name: str) -> User:
        """One account; AccountError when there is none by that name."""
        user = self.user(name)
        if user is None:
            raise AccountError(f"Không có tài khoản '{name}'.")
        return user

    def user(self, name: str) -> User | None:
        """One account, or None."""
        row = self.db.execute("SELECT name, role, stations, disabled FROM desk_users WHERE name = ?",
                              (name,)).fetchone()
        return User(row[0], row[1], json.loads(row[2]), bool(row[3])) if row else None

    def users(self) -> list[User]:
        """Every account, by name."""
        return [User(r[0], r[1], json.loads(r[2]), bool(r[3])) for r in
                self.db.execute("SELECT name, role, stations, disabled FROM desk_users ORDER BY name")]

    def count(self) -> int:
        """Number of accounts."""
        return int(self.db.execute("SELECT COUNT(*) FROM desk_users").fetchone()[0])

    def verify(self, name: str, password: str) -> User | None:
        """The account when the password is right (and the account enabled), else None."""
        row = self.db.execute("SELECT password_hash FROM desk_users WHERE name = ?", (name,)).fetchone()
        try:
            _HASHER.verify(row[0] if row else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        user = self.user(name)
        if user is None or user.disabled:
            return None
        if _HASHER.check_needs_rehash(row[0]):  # the cost parameters were raised since
            with self.store._write():
                self.db.execute("UPDATE desk_users SET password_hash = ? WHERE name = ?",
                                (_HASHER.hash(password), name))
        return user

    # ------------------------------------------------------------ sessions

    def start_session(self, user: User, now: dt.datetime, lifetime: dt.timedelta) -> tuple[str, str]:
        """Open a session; return (cookie token, CSRF token)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self.store._write():
            # Expired sessions are dropped whenever someone logs in: no separate clean-up job.
            self.db.execute("DELETE FROM desk_sessions WHERE expires_at < ?", (to_db_time(now),))
            self.db.execute(
                "INSERT INTO desk_sessions (token_sha, user, csrf, created_at, last_seen, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (_sha(token), user.name, csrf, to_db_time(now), to_db_time(now), to_db_time(now + lifetime)))
        return token, csrf

    def session(self, token: str, now: dt.datetime, idle: dt.timedelta) -> Session | None:
        """The live session of a cookie token, or None when unknown, expired or idle too long."""
        if not token:
            return None
        row = self.db.execute("SELECT user, csrf, last_seen, expires_at FROM desk_sessions WHERE token_sha = ?",
                              (_sha(token),)).fetchone()
        if row is None:
            return None
        last_seen, expires = from_db_time(row[2]), from_db_time(row[3])
        if now >= expires or now - last_seen >= idle:
            self.end_session(token)
            return None
        user = self.user(row[0])
        if user is None or user.disabled:
            return None
        if now - last_seen > dt.timedelta(minutes=1):  # one write a minute is enough to track idleness
            with self.store._write():
                self.db.execute("UPDATE desk_sessions SET last_seen = ? WHERE token_sha = ?",
                                (to_db_time(now), _sha(token)))
        return Session(user=user, csrf=row[1], expires_at=expires)

    def end_session(self, token: str) -> None:
        """Log a browser out."""
        with self.store._write():
            self.db.execute("DELETE FROM desk_sessions WHERE token_sha = ?", (_sha(token),))

    # ------------------------------------------------------------ failed logins

    def failures(self, who: str, now: dt.datetime, window: dt.timedelta) -> int:
        """Failed logins of a name or address within the window."""
        return int(self.db.execute("SELECT COUNT(*) FROM desk_login_failures WHERE who = ? AND at > ?",
                                   (who, to_db_time(now - window))).fetchone()[0])

    def record_failure(self, keys: list[str], now: dt.datetime, window: dt.timedelta) -> None:
        """Remember a failed login for each key, forgetting those older than the window."""
        with self.store._write():
            self.db.execute("DELETE FROM desk_login_failures WHERE at <= ?", (to_db_time(now - window),))
            for who in keys:
                self.db.execute("INSERT INTO desk_login_failures (who, at) VALUES (?, ?)", (who, to_db_time(now)))

    def clear_failures(self, who: str) -> None:
        """Forget a name's failed logins after it logged in."""
        with self.store._write():
            self.db.execute("DELETE FROM desk_login_failures WHERE who = ?", (who,))

    # ------------------------------------------------------------ secret

    def secret(self) -> bytes:
        """The desk's signing key (made once, kept in the database)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'desk_secret'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        with self.store._write():
            self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('desk_secret', ?)",
                            (secrets.token_hex(32),))
        return bytes.fromhex(self.db.execute("SELECT value FROM meta WHERE key = 'desk_secret'").fetchone()[0])
