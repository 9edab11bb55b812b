"""The review desk: Flask views over broadcast.api, server-rendered, Vietnamese.

Views parse the request, check who may do it, call one function of
broadcast.api and render the result. Templates autoescape everything, so
feed and script text is always shown as text.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from flask import Flask, Response, abort, g, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException

from broadcast import api
from broadcast.bulletin import PRIORITIES, PRIORITY_LABELS, Progress, State
from broadcast.config import Config
from broadcast.errors import BroadcastError
from broadcast.models import VN_TZ
from broadcast.speech.base import SpeechRun
from broadcast.vitext import decimal, grouped
from broadcast.web.accounts import ROLE_LABELS, ROLES, AccountError, User, login_key

log = logging.getLogger(__name__)

SESSION_COOKIE = "desk_session"
LOGIN_COOKIE = "desk_login"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SAFE_NEXT = re.compile(r"/[A-Za-z0-9/_.~%=&?-]*")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Fixed messages after a successful action: the URL carries a code, never text.
DONE = {
    "saved": "Đã lưu kịch bản.",
    "unchanged": "Không có gì thay đổi để lưu.",
    "approved": "Đã duyệt bản tin.",
    "held": "Đã tạm dừng bản tin: bản tin sẽ không được phát.",
    "rendered": "Đã làm xong âm thanh.",
    "swapped_in": "Đã đưa tin vào kịch bản.",
    "swapped_out": "Đã bỏ tin khỏi kịch bản.",
    "notice": "Đã lưu thông báo.",
    "notice_built": "Đã lưu thông báo và làm ngay bản tin thông báo.",
    "lexicon": "Đã thêm vào từ điển phát âm.",
    "local_added": "Đã lưu tin địa phương: tin đã có trong tin ứng viên của ngày ghi trên tin và được đọc từ ngày đó.",
    "local_added_later": ("Đã lưu tin địa phương. Máy chủ đang tải tin nên tin sẽ hiện trong tin ứng viên sau lần "
                          "tải tin tới (chậm nhất là lần soạn hằng đêm)."),
    "user_added": "Đã tạo tài khoản.",
    "user_removed": "Đã xóa tài khoản.",
    "password_set": "Đã đặt mật khẩu mới; các phiên đăng nhập cũ của tài khoản đã bị đóng.",
}
MAX_POST_BYTES = 2_000_000
PREVIEW_RUN_LIFETIME = dt.timedelta(minutes=10)
# A finished render's result is shown when its page next asks; then it is only memory, one entry per date.
RENDER_RESULT_KEPT = dt.timedelta(minutes=30)
RENDER_RESULTS = 50
# Said instead of the framework's English pages; a code not listed gets the generic line.
HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ: hãy tải lại trang rồi làm lại.",
    404: "Không có trang này.",
    405: "Trang này không nhận yêu cầu gửi theo cách đó: hãy dùng các nút và liên kết trên trang.",
    413: (f"Nội dung gửi lên quá lớn (tối đa {MAX_POST_BYTES // 1_000_000} MB) nên chưa được lưu. Hãy bấm "
          "Quay lại trên trình duyệt, chép phần vừa gõ ra nơi khác, rút ngắn rồi lưu lại."),
    416: "Không đọc được đoạn âm thanh được yêu cầu: hãy tải lại trang rồi nghe lại.",
}
UNEXPECTED = "Lỗi không mong đợi trên máy chủ: hãy tải lại trang; nếu vẫn lỗi, hãy báo cho người quản trị."
# Form fields holding what a staffer typed at length: kept on the answer page whenever a post is refused.
BLOCK_FIELD = re.compile(r"block-(\d{1,4})")
TYPED_FIELD = re.compile(r"block-(\d{1,4})|text")
# Each script box is sent with a digest of the text it was given, so a refused save can tell what this
# staffer typed from text a colleague changed or removed meanwhile.
ORIGIN_FIELD = re.compile(r"orig-(\d{1,4})")
# What a refused post would have done, in the words of its button.
ACTION_WORDS = {"approve": "duyệt bản tin", "hold": "tạm dừng", "render": "làm lại âm thanh",
                "make": "soạn bản tin ngay", "save": "lưu kịch bản", "swap": "đổi tin", "notices": "lưu thông báo", "lexicon": "thêm vào từ điển phát âm",
                "local_items": "lưu tin địa phương", "withdraw_local": "rút tin địa phương",
                "accounts": "tạo tài khoản", "reset_password": "đặt mật khẩu", "remove_account": "xóa tài khoản"}
EVENT_WORDS = {"drafted": "soạn", "edited": "sửa", "approved": "duyệt", "held": "tạm dừng",
               "rendered": "làm âm thanh", "failed": "lỗi", "published": "phát hành"}


def box_digest(text: str) -> str:
    """A short fingerprint of a script box's text, blind to how browsers send line ends."""
    return hashlib.sha256(text.replace("\r\n", "\n").strip().encode("utf-8")).hexdigest()[:16]


@dataclass
class DeskSettings:
    """How long sessions last and how many failed logins are allowed."""

    session_lifetime: dt.timedelta = dt.timedelta(hours=12)
    idle_timeout: dt.timedelta = dt.timedelta(hours=2)
    login_window: dt.timedelta = dt.timedelta(minutes=15)
    # Failed logins in the window: of an account from one address, which then waits, while the same
    # account still logs in from elsewhere (so a stranger cannot lock a staffer out by guessing);
    # of an account from all addresses together, a bound on guessing from many machines; of one address.
    login_limit: int = 5
    account_limit: int = 50
    address_limit: int = 20
    render_limit: int = 2  # renders running at once: each reads aloud and encodes, and the machine is small
    # Characters of new speech one account may hear in an hour (about half an hour of listening, every
    # paragraph of three bulletins): each is read by the station's engine, for a vendor a paid request.
    speech_chars_per_hour: int = 30_000


@dataclass
class RenderJob:
    """A re-render running in the background, with its progress lines."""

    started: float
    lines: list[str] = field(default_factory=list)
    done: bool = False
    error: str = ""
    summary: str = ""
    finished: dt.datetime | None = None


def _forget_finished(jobs: dict[tuple[str, str, str], RenderJob], before: dt.datetime, keep: int) -> None:
    """Drop results of renders finished before `before`, and all but the newest `keep`; running ones stay."""
    finished = sorted((j.finished or before, k) for k, j in jobs.items() if j.done)
    for n, (when, k) in enumerate(finished):
        if when <= before or n < len(finished) - keep:
            del jobs[k]


def create_app(config: Config, out_dir: Path, clock: Callable[[], dt.datetime],
               settings: DeskSettings | None = None) -> Flask:
    """The desk as a WSGI application for one configuration and output folder."""
    settings = settings or DeskSettings()
    app = Flask(__name__)
    # One limit for the whole post and for any one field, so a long edit meets the script's own
    # size check (with the text kept on the page) before the framework's bare refusal.
    app.config.update(MAX_CONTENT_LENGTH=MAX_POST_BYTES, MAX_FORM_MEMORY_SIZE=MAX_POST_BYTES,
                      TEMPLATES_AUTO_RELOAD=False)
    out_dir = Path(out_dir)
    jobs: dict[tuple[str, str, str], RenderJob] = {}
    jobs_lock = threading.Lock()
    app.extensions["broadcast.render_jobs"] = jobs
    speech_spent: dict[str, list[tuple[dt.datetime, int]]] = {}  # account -> (when, new characters heard)
    speech_lock = threading.Lock()
    # The run state previews share (voice probes, engines skipped after failures, the character budget),
    # started afresh every few minutes: kept for the desk's life, one spent budget or one outage of the
    # voice service would stop or downgrade every station's previews until somebody rendered.
    preview_run: list[tuple[dt.datetime, SpeechRun]] = []
    with api.accounts(config) as acc:
        secret = acc.secret()

    def now() -> dt.datetime:
        return clock()

    # ------------------------------------------------------------ helpers

    def login_token(nonce: str) -> str:
        return hmac.new(secret, b"login:" + nonce.encode(), hashlib.sha256).hexdigest()

    def current_session():
        if "desk_session" not in g:
            token = request.cookies.get(SESSION_COOKIE, "")
            with api.accounts(config) as acc:
                g.desk_session = acc.session(token, now(), settings.idle_timeout) if token else None
        return g.desk_session

    def user() -> User | None:
        s = current_session()
        return s.user if s else None

    def refuse(status: int, message: str):
        return render_template("error.html", message=message, status=status), status

    def visible_stations(u: User):
        return [s for s in config.stations if u.can_see(s.id)]

    def parse_day(value: str | None, default: dt.date) -> dt.date:
        if not value:
            return default
        if not DATE_RE.match(value):
            abort(404)
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            abort(404)
        # Pages link to the day before and after and look back a fortnight: those days must exist too.
        if not dt.date.min + dt.timedelta(days=31) <= day <= dt.date.max - dt.timedelta(days=31):
            abort(404)
        return day

    def slot_arg() -> str:
        slot = request.values.get("slot", "")
        if slot and not api.NAME.fullmatch(slot):
            abort(404)
        return slot

    def today() -> dt.date:
        return now().astimezone(VN_TZ).date()

    def login_required(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if user() is None:
                if request.path.startswith("/api/"):
                    return refuse(401, "Cần đăng nhập.")
                return redirect(url_for("login", next=request.full_path.rstrip("?")))
            return view(*args, **kwargs)
        return wrapped

    def station_view(view):
        """Log in first, then the station must exist (404) and be this account's (403)."""
        @functools.wraps(view)
        @login_required
        def wrapped(station: str, *args, **kwargs):
            if station not in {s.id for s in config.stations}:
                return refuse(404, "Không có đài này.")
            if not user().can_see(station):
                return refuse(403, "Tài khoản của bạn không được xem đài này.")
            slots = config.station(station).slots
            slot = request.values.get("slot", "")
            if "day" in kwargs and slots and not slot and request.method == "GET":
                # A day's page of a station on air several times a day is one broadcast's: open the first.
                return redirect(url_for(request.endpoint, station=station, **kwargs,
                                        **{**request.args.to_dict(), "slot": slots[0].name}))
            if "day" in kwargs and slot and slot not in {s.name for s in slots}:
                # Not a planned broadcast: then only a one-off notice of that day, else nothing to show or do.
                try:
                    api.bulletin_status(config, out_dir, station, parse_day(kwargs["day"], today()), slot_arg())
                except api.ParameterError:
                    return refuse(404, f"Đài không có buổi phát hay thông báo “{slot}” trong ngày này.")
            return view(station, *args, **kwargs)
        return wrapped

    def back(endpoint: str, done: str, **values):
        return redirect(url_for(endpoint, done=done, **{k: v for k, v in values.items() if v}))

    # ------------------------------------------------------------ every request

    def form_is_utf8() -> bool:
        if request.mimetype != "application/x-www-form-urlencoded":
            return True
        # The framework would keep undecodable bytes as literal "%FF" and save them into the script.
        try:
            for part in request.get_data(cache=True).split(b"&"):
                urllib.parse.unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def typed_texts() -> list[tuple[str, str]]:
        """What the staffer typed in a refused post, labelled, when the post came from a desk page."""
        # Another site's page could post text for the desk to show: only our own pages' posts are echoed.
        if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
            return []
        found = []
        for name, value in request.form.items():
            m = TYPED_FIELD.fullmatch(name)
            if m and value.strip():
                found.append((f"Phần {m.group(1)}" if m.group(1) else "Nội dung", value))
        return found

    def page_of_post() -> str:
        """The desk page a post was sent from, to return to after logging in again."""
        args = dict(request.view_args or {})
        slot = {"slot": request.args["slot"]} if request.args.get("slot") else {}
        if request.endpoint in ("save", "approve", "hold", "render", "make"):
            return url_for("bulletin", **args, **slot)
        if request.endpoint == "swap":
            return url_for("candidates", **args, **slot)
        if request.endpoint in ("notices", "lexicon", "local_items"):
            return request.full_path.rstrip("?")
        if request.endpoint == "withdraw_local":
            return url_for("local_items", **args)
        if request.endpoint in ("accounts", "reset_password", "remove_account"):
            return url_for("accounts")
        return url_for("home")

    @app.before_request
    def check_csrf():
        if request.method != "POST":
            return None
        if not form_is_utf8():
            return refuse(400, "Biểu mẫu gửi lên có chữ không đúng mã UTF-8 nên chưa được lưu. "
                               "Hãy tải lại trang, gõ lại trên trình duyệt rồi gửi lại.")
        # As bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
        sent = request.form.get("csrf_token", "").encode("utf-8")
        if request.endpoint == "login":
            nonce = request.cookies.get(LOGIN_COOKIE, "")
            ok = bool(nonce) and hmac.compare_digest(sent, login_token(nonce).encode("utf-8"))
        else:
            s = current_session()
            ok = s is not None and bool(sent) and hmac.compare_digest(sent, s.csrf.encode("utf-8"))
            if s is None:
                if request.endpoint == "logout":
                    return redirect(url_for("login"))
                unsaved = typed_texts()
                if not unsaved:
                    # A click on Duyệt or Tạm dừng must not look done: say so, and come back to the page.
                    return login_page(f"Phiên đăng nhập đã hết nên việc bạn vừa bấm "
                                      f"({ACTION_WORDS.get(request.endpoint, 'gửi biểu mẫu')}) chưa được làm. "
                                      "Hãy đăng nhập lại rồi bấm lại.", 401, [], page_of_post())
                # A long edit outlived the session: show it with the login form, never drop it.
                return login_page("Phiên đăng nhập đã hết nên bản bạn vừa gõ chưa được lưu. Hãy chép phần "
                                  "dưới đây, đăng nhập lại rồi dán vào.", 401, unsaved, page_of_post())
        if not ok:
            message = ("Yêu cầu bị từ chối: thiếu mã bảo vệ biểu mẫu hoặc mã đã hết hạn. "
                       "Hãy tải lại trang rồi làm lại.")
            unsaved = typed_texts()
            if unsaved:
                message += " Bản bạn vừa gõ chưa được lưu: hãy chép phần dưới đây rồi dán vào trang mới."
            return render_template("error.html", message=message, status=403, unsaved=unsaved), 403
        return None

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        if resp.mimetype in ("text/html", "application/json"):
            resp.headers["Cache-Control"] = "no-store"
        elif resp.mimetype.startswith("audio/") and "private" not in resp.headers.get("Cache-Control", ""):
            # A station's bulletin is for its logged-in staff: no shared cache (a proxy) may keep it.
            resp.headers["Cache-Control"] = "private, " + (resp.headers.get("Cache-Control") or "no-cache")
        return resp

    @app.context_processor
    def common():
        s = current_session() if request.endpoint not in ("static", "healthz") else None
        return {"me": s.user if s else None, "csrf_token": s.csrf if s else "",
                "done_message": DONE.get(request.args.get("done", ""), ""),
                "role_labels": ROLE_LABELS, "priority_labels": PRIORITY_LABELS,
                "station_names": {st.id: st.name for st in config.stations}}

    @app.template_filter("minutes")
    def minutes(seconds: float) -> str:
        if not seconds:
            return ""
        m, s = divmod(int(round(seconds)), 60)
        return f"{m}:{s:02d}"

    @app.template_filter("clock")
    def clock_filter(value: dt.datetime | None) -> str:
        return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if value else ""

    @app.template_filter("desk_note")
    def desk_note(note: str) -> str:
        # The library's notes name the commands; on the desk the same step is a button.
        return (note.replace("chạy 'broadcast build' hoặc 'broadcast script'", "chờ lần soạn hằng đêm trên máy chủ")
                    .replace("chạy 'broadcast build'", "bấm “Làm lại âm thanh”"))

    roots = [out_dir, config.data_dir] + ([config.path.parent] if config.path else [])
    folders = sorted({str(variant) + sep for root in roots for variant in (root, root.resolve(), root.absolute())
                      for sep in ("/", "\\")}, key=len, reverse=True)

    @app.template_filter("no_paths")
    def no_paths(text: str) -> str:
        # Staff need the file's name, not where the server keeps it.
        for folder in folders:
            text = text.replace(folder, "")
        return text

    app.add_template_filter(box_digest, "box_digest")

    @app.template_filter("vndate")
    def vndate(value: dt.date) -> str:
        return value.strftime("%d/%m/%Y")

    # ------------------------------------------------------------ health and login

    @app.get("/healthz")
    def healthz():
        return Response("ok", mimetype="text/plain")

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = ""
        status = 200
        if request.method == "POST":
            # Failed logins are stored by name: cut what no account name can be (64 characters at most),
            # so a megabyte "name" is neither stored nor looked up as such.
            name = request.form.get("username", "").strip().lower()[:100]
            password = request.form.get("password", "")
            addr = request.remote_addr or "?"
            t = now()
            with api.accounts(config) as acc:
                keys = [f"user:{name}", f"addr:{addr}", login_key(name, addr)]
                limits = [settings.account_limit, settings.address_limit, settings.login_limit]
                if any(acc.failures(k, t, settings.login_window) >= n for k, n in zip(keys, limits)):
                    minutes_ = int(settings.login_window.total_seconds() // 60)
                    error, status = (f"Đăng nhập sai quá nhiều lần. Hãy đợi {minutes_} phút rồi thử lại, "
                                     "hoặc nhờ người quản trị đặt lại mật khẩu."), 429
                else:
                    u = acc.verify(name, password)
                    if u is None:
                        acc.record_failure(keys, t, settings.login_window)
                        error, status = "Sai tên tài khoản hoặc mật khẩu.", 401
                    else:
                        # Only this address's count: a right password here does not give a guesser
                        # elsewhere a fresh allowance against the whole account.
                        acc.clear_failures(login_key(name, addr))
                        # A browser holds one session: the one it had (maybe another staffer's) ends here.
                        if request.cookies.get(SESSION_COOKIE):
                            acc.end_session(request.cookies[SESSION_COOKIE])
                        token, _ = acc.start_session(u, t, settings.session_lifetime)
                        target = request.args.get("next", "")
                        # Only a path on this desk: never a redirect to another site (browsers drop
                        # tabs and newlines, so "/\t/evil" would become "//evil").
                        if not SAFE_NEXT.fullmatch(target) or target.startswith("//"):
                            target = url_for("home")
                        resp = redirect(target)
                        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax",
                                        secure=request.is_secure, path="/")
                        resp.delete_cookie(LOGIN_COOKIE, path="/login")
                        return resp
        return login_page(error, status)

    def login_page(error: str, status: int, unsaved: list[tuple[str, str]] | None = None,
                   next_path: str = "") -> Response:
        nonce = secrets.token_urlsafe(24)
        with api.accounts(config) as acc:
            no_accounts = acc.count() == 0
        action = url_for("login", next=next_path) if next_path else ""
        resp = Response(render_template("login.html", login_csrf=login_token(nonce), error=error,
                                        no_accounts=no_accounts, unsaved=unsaved or [], action=action),
                        status=status)
        resp.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="Strict", secure=request.is_secure,
                        path="/login", max_age=3600)
        return resp

    @app.post("/logout")
    def logout():
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            with api.accounts(config) as acc:
                acc.end_session(token)
        resp = redirect(url_for("login"))
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    # ------------------------------------------------------------ home and history

    @app.get("/")
    @login_required
    def home():
        day = parse_day(request.args.get("date"), today())
        mine = [s.id for s in visible_stations(user())]
        statuses = api.status(config, out_dir, day, mine) if mine else []
        return render_template("home.html", day=day, today=today(), statuses=statuses,
                               stations=visible_stations(user()),
                               prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1))

    @app.get("/history")
    @login_required
    def history():
        end = parse_day(request.args.get("to"), today())
        start = parse_day(request.args.get("from"), end - dt.timedelta(days=14))
        if start > end:
            start, end = end, start
        mine = [s.id for s in visible_stations(user())]
        entries = api.history(config, start, end, mine) if mine else []
        return render_template("history.html", entries=list(reversed(entries)), start=start, end=end,
                               event_words=EVENT_WORDS)

    # ------------------------------------------------------------ one bulletin

    def review_page(station: str, day: dt.date, slot: str, *, error: str = "", typed: dict | None = None,
                    origins: dict | None = None, status: int = 200):
        r = api.review(config, out_dir, station, day, slot)
        job = jobs.get((station, day.isoformat(), slot))
        # A colleague's save may have moved the blocks: whatever typed text is not in the script now is
        # shown, under the block of its number or, when that block is gone, above the form.
        current = {b.body.strip() for b in r.blocks}
        origins = origins or {}
        unsaved = {i: t for i, t in (typed or {}).items()
                   if t.strip() and t.replace("\r\n", "\n").strip() not in current
                   and origins.get(i) != box_digest(t)}
        shown = {b.index for b in r.blocks}
        leftover = [(f"Phần {i}", t) for i, t in sorted(unsaved.items()) if i not in shown]
        return render_template("bulletin.html", station=config.station(station), day=day, slot=slot, r=r,
                               error=error, typed=unsaved, unsaved=leftover, job=job, State=State,
                               labels=api.SEGMENT_LABELS, today=today()), status

    @app.get("/stations/<station>/<day>")
    @station_view
    def bulletin(station: str, day: str):
        return review_page(station, parse_day(day, today()), slot_arg())

    @app.post("/stations/<station>/<day>/save")
    @station_view
    def save(station: str, day: str):
        date, slot = parse_day(day, today()), slot_arg()
        edits, origins = {}, {}
        for name, value in request.form.items():
            m = BLOCK_FIELD.fullmatch(name)
            if m:
                edits[int(m.group(1))] = value
            m = ORIGIN_FIELD.fullmatch(name)
            if m:
                origins[int(m.group(1))] = value
        try:
            # No version sent is a version that never matches: a save must not overwrite unseen work.
            result = api.save_blocks(config, out_dir, station, date, edits, now(), slot=slot,
                                     base_sha=request.form.get("base_sha", ""), by=user().name)
        except api.ConflictError as exc:
            return review_page(station, date, slot, error=str(exc), typed=edits, origins=origins, status=409)
        except BroadcastError as exc:
            return review_page(station, date, slot, error=str(exc), typed=edits, origins=origins, status=400)
        return back("bulletin", "saved" if result else "unchanged", station=station, day=day, slot=slot)

    def bulletin_action(station: str, day: str, done: str, action: Callable[[dt.date, str], object]):
        """Run one action on a bulletin; show its page again with the reason when it is refused."""
        date, slot = parse_day(day, today()), slot_arg()
        try:
            action(date, slot)
        except BroadcastError as exc:
            conflict = isinstance(exc, api.ConflictError)
            return review_page(station, date, slot, error=str(exc), status=409 if conflict else 400)
        return back("bulletin", done, station=station, day=day, slot=slot)

    @app.post("/stations/<station>/<day>/approve")
    @station_view
    def approve(station: str, day: str):
        def run(date: dt.date, slot: str) -> None:
            # Approve only what this reviewer read: the script must still be the one on their page.
            api.approve(config, out_dir, station, date, now(), slot=slot, by=user().name,
                        base_sha=request.form.get("base_sha", ""))
        return bulletin_action(station, day, "approved", run)

    @app.post("/stations/<station>/<day>/hold")
    @station_view
    def hold(station: str, day: str):
        reason = request.form.get("reason", "").strip()[:500]
        return bulletin_action(station, day, "held", lambda date, slot: api.hold(
            config, out_dir, station, date, now(), slot=slot, by=user().name, reason=reason))

    @app.post("/stations/<station>/<day>/render")
    @station_view
    def render(station: str, day: str):
        return start_render(station, day, anew=False)

    @app.post("/stations/<station>/<day>/make")
    @station_view
    def make(station: str, day: str):
        # Today's bulletin only: the nightly run makes the others, and a day chosen in the address must not
        # leave bulletins on the server for dates nobody broadcasts (retention would never remove them).
        date, slot = parse_day(day, today()), slot_arg()
        if date != today():
            return review_page(station, date, slot, status=400, error=(
                "Chỉ soạn ngay được bản tin của hôm nay; bản tin các ngày khác do lần chạy hằng đêm "
                "trên máy chủ soạn."))
        if api.bulletin_status(config, out_dir, station, date, slot).script is not None:
            return redirect(url_for("bulletin", station=station, day=day, **({"slot": slot} if slot else {})))
        return start_render(station, day, anew=True)

    def start_render(station: str, day: str, anew: bool):
        date, slot = parse_day(day, today()), slot_arg()
        key = (station, date.isoformat(), slot)
        with jobs_lock:
            job = jobs.get(key)
            busy = sum(1 for j in jobs.values() if not j.done)
            if (job is None or job.done) and busy >= settings.render_limit:
                job = None
            elif job is None or job.done:
                _forget_finished(jobs, now() - RENDER_RESULT_KEPT, RENDER_RESULTS - 1)
                job = jobs[key] = RenderJob(started=time.monotonic())
                by, t = user().name, now()
                threading.Thread(target=run_render, args=(job, station, date, slot, t, by, anew), daemon=True,
                                 name=f"render-{station}").start()
        if job is None:
            return review_page(station, date, slot, status=429, error=(
                f"Máy chủ đang làm âm thanh cho {busy} bản tin khác: hãy đợi vài phút rồi bấm "
                "“Làm lại âm thanh” lần nữa."))
        return redirect(url_for("render_progress", station=station, day=day, **({"slot": slot} if slot else {})))

    def run_render(job: RenderJob, station: str, date: dt.date, slot: str, t: dt.datetime, by: str,
                   anew: bool = False) -> None:
        def progress(p: Progress) -> None:
            # The library reports stages and counts; staff read them as a line of Vietnamese.
            stage = "soạn kịch bản" if p.stage == "script" else "làm âm thanh"
            job.lines.append(f"đang {stage} ({p.done}/{p.total} xong): {p.label}")

        try:
            job.lines.append("bắt đầu đọc kịch bản thành tiếng")
            if anew:  # no script yet: draft it from the stories already fetched, then read it aloud
                report = api.build(config, out_dir, date, t, [station], fetch=False, actor=by, progress=progress)
            else:
                report = api.render(config, out_dir, station, date, t, slot=slot, actor=by, progress=progress)
            failed = [r.message for r in report.failed] + [r.message for r in report.busy]
            job.error = "; ".join(failed)
            job.summary = (f"đọc mới {report.speech_calls} đoạn, lấy lại {report.cache_hits} đoạn "
                           f"trong {decimal(report.seconds, 1)} giây")
        except BroadcastError as exc:
            job.error = str(exc)
        except Exception as exc:  # a bug must reach the page as a line, and the log in full
            log.exception("render of %s failed", station)
            job.error = f"lỗi không mong đợi ({type(exc).__name__}): hãy báo cho người quản trị"
        finally:
            job.finished = now()
            job.done = True

    @app.get("/stations/<station>/<day>/render")
    @station_view
    def render_progress(station: str, day: str):
        date, slot = parse_day(day, today()), slot_arg()
        job = jobs.get((station, date.isoformat(), slot))
        if job is not None and job.done and not job.error:
            return back("bulletin", "rendered", station=station, day=day, slot=slot)
        elapsed = int(time.monotonic() - job.started) if job else 0
        return render_template("render.html", station=config.station(station), day=date, slot=slot, job=job,
                               elapsed=elapsed)

    @app.get("/api/stations/<station>/<day>")
    @station_view
    def status_json(station: str, day: str):
        date, slot = parse_day(day, today()), slot_arg()
        data = api.bulletin_status(config, out_dir, station, date, slot).to_json()
        for private in ("script", "audio"):  # server paths are nobody's business
            data.pop(private, None)
        data["warnings"] = [no_paths(w) for w in data["warnings"]]
        data["failed_message"] = no_paths(data["failed_message"] or "") or None
        job = jobs.get((station, date.isoformat(), slot))
        data["render"] = None if job is None else {"done": job.done, "error": job.error, "lines": job.lines[-5:]}
        return data

    @app.get("/stations/<station>/<day>/diff")
    @station_view
    def diff(station: str, day: str):
        date, slot = parse_day(day, today()), slot_arg()
        try:
            d = api.diff(config, out_dir, station, date, slot)
        except api.NotFoundError as exc:
            return refuse(404, str(exc))
        return render_template("diff.html", station=config.station(station), day=date, slot=slot, d=d)

    @app.get("/stations/<station>/<day>/audio")
    @station_view
    def audio(station: str, day: str):
        date, slot = parse_day(day, today()), slot_arg()
        path = api.workspace(config, out_dir).paths(station, date, slot).audio
        # Defence in depth: whatever the names, only a file inside the output folder is served.
        root = out_dir.resolve()
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return refuse(404, "Bản tin này chưa có âm thanh.")
        if root not in resolved.parents or not resolved.is_file():
            return refuse(404, "Bản tin này chưa có âm thanh.")
        return send_file(resolved, mimetype="audio/mpeg", conditional=True, max_age=0,
                         download_name=resolved.name)

    @app.get("/stations/<station>/speech")
    @station_view
    def speech(station: str):
        # A GET, so the session cookie comes along when another site opens it: each new text would be
        # a request to the voice service (paid, for the vendors) made in a staffer's name.
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return refuse(403, "Chỉ nghe thử được từ các trang của bàn duyệt: hãy mở bàn duyệt rồi bấm ▶.")
        text = request.args.get("text", "")
        name, t = user().name, now()
        with speech_lock:
            recent = [(at, n) for at, n in speech_spent.get(name, []) if at > t - dt.timedelta(hours=1)]
            speech_spent[name] = recent
        if sum(n for _, n in recent) >= settings.speech_chars_per_hour:
            return refuse(429, f"Tài khoản của bạn đã nghe thử {grouped(settings.speech_chars_per_hour)} ký tự "
                               "lời đọc mới trong một giờ qua, mức tối đa của một tài khoản: hãy đợi ít phút rồi "
                               "nghe tiếp.")
        with speech_lock:
            if not preview_run or t - preview_run[0][0] >= PREVIEW_RUN_LIFETIME:
                preview_run[:] = [(t, SpeechRun())]
            run = preview_run[0][1]
        try:
            sample = api.speak(config, station, text, run=run)
        except BroadcastError as exc:
            return refuse(400, str(exc))
        if not sample.cached:
            with speech_lock:
                speech_spent.setdefault(name, []).append((t, len(sample.spoken)))
        resp = Response(sample.wav, mimetype="audio/wav")
        # Asked again on every ▶: a word added to the dictionary changes what this text sounds like, so the
        # browser may keep the sound only while it is still what the station would say (304 otherwise).
        resp.set_etag(hashlib.sha256(f"{sample.engine}\n{sample.spoken}".encode("utf-8")).hexdigest()[:32])
        resp.headers["Cache-Control"] = "private, no-cache"
        return resp.make_conditional(request)

    # ------------------------------------------------------------ candidates

    @app.get("/stations/<station>/<day>/candidates")
    @station_view
    def candidates(station: str, day: str, error: str = "", status: int = 200):
        date, slot = parse_day(day, today()), slot_arg()
        found = api.candidates(config, station, date, now(), show_all=request.args.get("all") == "1")
        r = api.review(config, out_dir, station, date, slot)
        return render_template("candidates.html", station=config.station(station), day=date, slot=slot,
                               found=found, r=r, error=error), status

    @app.post("/stations/<station>/<day>/swap")
    @station_view
    def swap(station: str, day: str):
        date, slot = parse_day(day, today()), slot_arg()
        try:
            story = int(request.form.get("story", ""))
        except ValueError:
            abort(400)
        include = request.form.get("include") == "1"
        try:
            api.swap_story(config, out_dir, station, date, story, include, now(), slot=slot,
                           base_sha=request.form.get("base_sha", ""), by=user().name)
        except BroadcastError as exc:
            return candidates(station, day, error=str(exc), status=409 if isinstance(exc, api.ConflictError) else 400)
        return back("candidates", "swapped_in" if include else "swapped_out", station=station, day=day, slot=slot)

    # ------------------------------------------------------------ notices

    @app.route("/stations/<station>/notices", methods=["GET", "POST"])
    @station_view
    def notices(station: str):
        day = parse_day(request.values.get("date"), today())
        error, status, form = "", 200, {}
        if request.method == "POST":
            form = {k: request.form.get(k, "") for k in ("text", "priority", "valid_from", "valid_to", "build_now")}
            priority = form["priority"] if form["priority"] in PRIORITIES else "normal"
            try:
                start = parse_form_date(form["valid_from"]) or day
                end = parse_form_date(form["valid_to"]) or start
                build_now = priority == "emergency" or form["build_now"] == "1"
                api.notice(config, out_dir, form["text"], [station], day, now(), priority=priority,
                           valid_from=start, valid_to=end, build_now=build_now, by=user().name)
            except BroadcastError as exc:
                error, status = str(exc), 429 if isinstance(exc, api.NoticeLimitError) else 400
            else:
                return back("notices", "notice_built" if build_now else "notice", station=station,
                            date=day.isoformat())
        current = api.notices_of(config, station, day)
        return render_template("notices.html", station=config.station(station), day=day, current=current,
                               error=error, form=form, priorities=PRIORITIES), status

    def parse_form_date(value: str) -> dt.date | None:
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value) if DATE_RE.match(value) else _bad_date(value)
        except ValueError:
            return _bad_date(value)

    # ------------------------------------------------------------ local items

    def local_page(station: str, *, error: str = "", status: int = 200, form: dict | None = None,
                   withdrawn: api.LocalChange | None = None):
        found = api.local_items(config, out_dir, station, now())
        return render_template("local.html", station=config.station(station), found=found, error=error,
                               form=form or {}, withdrawn=withdrawn, today=today(), max_day=today() + api.LOCAL_AHEAD,
                               limits=api.LOCAL_LIMITS), status

    @app.route("/stations/<station>/local", methods=["GET", "POST"])
    @station_view
    def local_items(station: str):
        if request.method == "GET":
            return local_page(station)
        form = {k: request.form.get(k, "") for k in ("title", "date", "author", "text")}
        try:
            change = api.add_local_item(config, station, form["title"], parse_form_date(form["date"]) or today(),
                                        form["text"], now(), author=form["author"], by=user().name)
        except BroadcastError as exc:
            return local_page(station, error=str(exc), status=400, form=form)
        return redirect(url_for("local_items", station=station,
                                done="local_added" if change.in_candidates else "local_added_later"))

    @app.post("/stations/<station>/local/withdraw")
    @station_view
    def withdraw_local(station: str):
        try:
            change = api.withdraw_local_item(config, out_dir, station, request.form.get("name", ""), now(),
                                             by=user().name)
        except api.NotFoundError as exc:
            return local_page(station, error=str(exc), status=404)
        except BroadcastError as exc:
            return local_page(station, error=str(exc), status=403 if isinstance(exc, api.NotYoursError) else 400)
        # Shown at once, not after a redirect: the bulletins that still carry the item are known only now.
        return local_page(station, withdrawn=change)

    # ------------------------------------------------------------ pronunciation dictionary

    def lexicon_shared_with_others(station: str) -> str:
        """Why this account may not change the station's dictionary file, or '' when it may.

        A station without a file of its own reads the province's, and two stations may name one file:
        an entry added there is read on loudspeakers this account has no right to."""
        path = config.station(station).lexicon
        if path is None or user().sees_all:
            return ""
        same = path.resolve()
        if config.lexicon is not None and config.lexicon.resolve() == same:
            return ("Tệp từ điển phát âm này dùng chung cho mọi đài trong tỉnh nên chỉ cán bộ tỉnh hoặc người "
                    "quản trị được thêm mục. Hãy nhờ người quản trị đặt tệp riêng cho đài (dòng "
                    f"lexicon = \"tu-dien-{station}.tsv\" trong mục của đài ở broadcast.toml).")
        if any(s.lexicon is not None and s.lexicon.resolve() == same and not user().can_see(s.id)
               for s in config.stations):
            return ("Tệp từ điển phát âm này dùng chung với đài khác nên chỉ cán bộ tỉnh hoặc người quản trị "
                    "được thêm mục. Hãy nhờ người quản trị đặt tệp riêng cho đài.")
        return ""

    @app.route("/stations/<station>/lexicon", methods=["GET", "POST"])
    @station_view
    def lexicon(station: str):
        day = parse_day(request.values.get("date"), today())
        error, status, form = "", 200, {}
        shared = lexicon_shared_with_others(station)
        if request.method == "POST" and shared:
            error, status = shared, 403
        elif request.method == "POST":
            form = {"written": request.form.get("written", ""), "spoken": request.form.get("spoken", "")}
            try:
                # Said here in the form's words: the file's own checks speak of its lines and columns,
                # and would take an entry of blanks or one starting with # (a comment) without a word.
                if not form["written"].strip() or not form["spoken"].strip():
                    raise BroadcastError("Hãy điền cả cách viết và cách đọc.")
                if form["written"].strip().startswith("#"):
                    raise BroadcastError("Cách viết không được bắt đầu bằng dấu #. Hãy bỏ dấu # rồi thêm lại.")
                api.add_lexicon_entry(config, station, form["written"], form["spoken"])
            except BroadcastError as exc:
                error, status = str(exc), 400
            else:
                return redirect(url_for("lexicon", station=station, done="lexicon", word=form["written"].strip(),
                                        date=day.isoformat()))
        path, entries = api.lexicon_entries(config, station)
        word = request.args.get("word", "").strip()[:200]
        uses = api.lexicon_uses(config, out_dir, station, day, word) if word else []
        return render_template("lexicon.html", station=config.station(station), day=day, path=path,
                               entries=entries, word=word, uses=uses, error=error, form=form,
                               shared=shared), status

    # ------------------------------------------------------------ accounts

    @app.route("/accounts", methods=["GET", "POST"])
    @login_required
    def accounts():
        if not user().manages_accounts:
            return refuse(403, "Chỉ người quản trị được quản lý tài khoản.")
        error, status, form = "", 200, {}
        if request.method == "POST":
            form = {"name": request.form.get("name", "").strip().lower(), "role": request.form.get("role", "staff"),
                    "stations": request.form.getlist("stations")}
            unknown = [s for s in form["stations"] if s not in {st.id for st in config.stations}]
            try:
                if unknown:
                    raise AccountError("Không có đài " + ", ".join(unknown) + ": hãy tải lại trang rồi chọn lại.")
                with api.accounts(config) as acc:
                    acc.add(form["name"], request.form.get("password", ""), form["role"], form["stations"], now())
            except BroadcastError as exc:
                error, status = str(exc), 400
            else:
                return back("accounts", "user_added")
        with api.accounts(config) as acc:
            users = acc.users()
        return render_template("accounts.html", users=users, roles=ROLES, error=error, form=form,
                               stations=config.stations), status

    @app.post("/accounts/<name>/password")
    @login_required
    def reset_password(name: str):
        if not user().manages_accounts:
            return refuse(403, "Chỉ người quản trị được quản lý tài khoản.")
        try:
            with api.accounts(config) as acc:
                acc.set_password(name, request.form.get("password", ""), now())
        except BroadcastError as exc:
            return refuse(400, str(exc))
        return back("accounts", "password_set")

    @app.post("/accounts/<name>/remove")
    @login_required
    def remove_account(name: str):
        if not user().manages_accounts:
            return refuse(403, "Chỉ người quản trị được quản lý tài khoản.")
        if name == user().name:
            return refuse(400, "Không thể xóa tài khoản bạn đang dùng để đăng nhập.")
        try:
            with api.accounts(config) as acc:
                acc.remove(name)
        except BroadcastError as exc:
            return refuse(404, str(exc))
        return back("accounts", "user_removed")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        resp = exc.get_response()
        page, _ = refuse(code, HTTP_MESSAGES.get(code, f"Không thực hiện được yêu cầu (mã lỗi {code})."))
        resp.set_data(page)
        resp.mimetype = "text/html"  # keeps the framework's headers (Allow, Content-Range)
        return resp

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("desk request %s failed", request.path)
        return refuse(500, UNEXPECTED)

    @app.errorhandler(BroadcastError)
    def broadcast_error(exc: BroadcastError):
        return refuse(400, str(exc))

    return app


def _bad_date(value: str):
    raise BroadcastError(f"'{value}' không phải ngày hợp lệ (dạng năm-tháng-ngày).")
