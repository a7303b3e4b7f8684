"""What every dashboard page shares: the signed-in user's Ctx, CSRF, templates, filters.

Other dashboard modules (analytics, billing) import ``dashboard_ctx`` / ``DashCtx``,
``templates`` and ``render`` from here.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape

from numberdesk.accounts import service as accounts
from numberdesk.accounts.models import Account, User
from numberdesk.api.deps import app_state, write_slot
from numberdesk.auth import sessions
from numberdesk.auth.context import Ctx
from numberdesk.auth.permissions import allowed
from numberdesk.dashboard import STATIC_DIR, TEMPLATE_DIR
from numberdesk.errors import Forbidden, NumberdeskError
from numberdesk.kit import money as money_mod
from numberdesk.kit import phone
from numberdesk.kit.times import span

# -- templates and filters ------------------------------------------------------------
templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True


def fmt_money(minor: int | None, currency: str = "USD") -> str:
    """``$1.15`` from integer minor units (exact, never floats)."""
    if minor is None:
        return ""
    return money_mod.fmt(int(minor), currency)


@functools.lru_cache(maxsize=8192)
def national(e164: str | None) -> str:
    """National format (cached: parsing is the costliest part of rendering a table row)."""
    return phone.national_format(e164) if e164 else ""


def until(when: dt.datetime | None, now: dt.datetime) -> str:
    return span((when - now).total_seconds()) if when else ""


def since(when: dt.datetime | None, now: dt.datetime) -> str:
    return span((now - when).total_seconds()) if when else ""


def _tz(context: Any) -> zoneinfo.ZoneInfo:
    account = context.get("account")
    name = getattr(account, "timezone", None) or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_time(when: dt.datetime | None, tz: zoneinfo.ZoneInfo, fmt: str = "%b %-d, %Y %H:%M") -> str:
    if when is None:
        return ""
    return when.astimezone(tz).strftime(fmt)


def _when(context: Any, when: dt.datetime | None, fmt: str = "%b %-d, %Y %H:%M") -> str:
    """A time in the account's time zone (with the zone's abbreviation)."""
    if when is None:
        return ""
    tz = _tz(context)
    return f"{local_time(when, tz, fmt)} {when.astimezone(tz).tzname()}"


def _date(context: Any, when: dt.datetime | None) -> str:
    return local_time(when, _tz(context), "%b %-d, %Y") if when else ""


@functools.lru_cache(maxsize=64)
def _icon_svg(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise ValueError(f"bad icon name {name!r}")
    raw = (STATIC_DIR / "vendor" / "lucide" / "icons" / f"{name}.svg").read_text()
    svg = raw[raw.index("<svg"):]
    return re.sub(r"\s+", " ", svg).replace("> <", "><").strip()


def icon(name: str, label: str | None = None, size: int = 16) -> Markup:
    """A vendored Lucide icon inline (``currentColor``); decorative unless ``label`` is given."""
    svg = _icon_svg(name).replace('width="24"', f'width="{size}"').replace('height="24"', f'height="{size}"')
    if label:
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    else:
        svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return Markup(svg)  # noqa: S704  (our own vendored files, label escaped)


def query_with(params: dict[str, Any], **changes: Any) -> str:
    """``?a=1&b=2`` from ``params`` with ``changes`` applied (None removes a key)."""
    merged = {k: v for k, v in params.items() if v not in (None, "")}
    for k, v in changes.items():
        if v in (None, ""):
            merged.pop(k, None)
        else:
            merged[k] = v
    if not merged:
        return "?"
    return "?" + "&".join(f"{quote(str(k))}={quote(str(v), safe='')}" for k, v in merged.items())


env.filters["money"] = fmt_money
env.filters["national"] = national
env.filters["span"] = span
env.globals["until"] = until
env.globals["since"] = since
env.globals["icon"] = icon
env.globals["query_with"] = query_with
env.filters["when"] = pass_context(_when)
env.filters["date"] = pass_context(_date)


# -- the signed-in user -----------------------------------------------------------------
@dataclass(frozen=True)
class Viewer:
    """Who is looking at the page (detached copies, safe after the session closes)."""

    user_id: str
    email: str
    name: str | None
    role: str
    account_id: str


def session_of(request: Request) -> sessions.SessionData | None:
    if not hasattr(request.state, "dash_session"):
        request.state.dash_session = sessions.load(app_state(request).settings, request.cookies.get(sessions.COOKIE))
    return request.state.dash_session  # type: ignore[no-any-return]


def local_path(target: str | None) -> str:
    """``target`` when it is a path of this site, else ``/``: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def referer_path(request: Request) -> str:
    """The page a form came from (path and query) when it is ours, else ``/``."""
    ref = urlsplit(request.headers.get("referer", ""))
    return local_path((ref.path or "/") + (f"?{ref.query}" if ref.query else ""))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def sign_in_redirect(request: Request) -> HTTPException:
    """Send a visitor without a session to the sign-in page (HTMX: a full-page redirect)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/sign-in" + (f"?next={quote(target, safe='')}" if target not in ("/", "/sign-in") else "")
    if is_htmx(request):
        return HTTPException(status_code=401, detail="Sign in again.", headers={"HX-Redirect": location})
    return HTTPException(status_code=303, detail="Sign in first.", headers={"Location": location})


class CsrfRefused(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=403, detail="The form's security token is missing or stale: "
                                                  "reload the page and try again.")


async def csrf_guard(request: Request) -> None:
    """Every unsafe request must carry this session's CSRF token (form field or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    token = request.headers.get(sessions.CSRF_HEADER)
    if not token and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(sessions.CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not sessions.csrf_ok(session_of(request), token):
        raise CsrfRefused()
    request.state.csrf_verified = True


def _dash_ctx(request: Request, write: bool) -> Iterator[Ctx]:
    sess = session_of(request)
    if sess is None or sess.user_id is None:
        raise sign_in_redirect(request)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not getattr(request.state, "csrf_verified", False):
        # Fail closed: a POST route that forgot ``csrf_guard`` still needs the header.
        if not sessions.csrf_ok(sess, request.headers.get(sessions.CSRF_HEADER)):
            raise CsrfRefused()
    st = app_state(request)
    with st.db.session(write=write) as s:
        user: User | None = accounts.get_user(s, sess.user_id)
        if user is None or user.session_epoch != sess.epoch:  # gone, or signed out since
            raise sign_in_redirect(request)
        request.state.viewer = Viewer(user.id, user.email, user.name, user.role, user.account_id)
        ctx = Ctx(session=s, account_id=user.account_id, actor=user.id, role=user.role, clock=st.clock,
                  settings=st.settings, request_id=getattr(request.state, "request_id", None))
        request.state.account = accounts.get_account(ctx)
        yield ctx


def dashboard_ctx(
    request: Request, _slot: Annotated[None, Depends(write_slot, scope="function")],
) -> Iterator[Ctx]:
    """A write-capable Ctx for the signed-in user (actor = user id, role = user role);
    committed before the response is sent. Not signed in: a redirect to /sign-in.
    Takes a write slot first, as the API's write transactions do (see ``numberdesk.db``)."""
    yield from _dash_ctx(request, True)


def dashboard_read_ctx(request: Request) -> Iterator[Ctx]:
    """Like ``dashboard_ctx`` for pages that only read (no write lock on SQLite)."""
    yield from _dash_ctx(request, False)


DashCtx = Annotated[Ctx, Depends(dashboard_ctx, scope="function")]
DashReadCtx = Annotated[Ctx, Depends(dashboard_read_ctx, scope="function")]


# -- rendering --------------------------------------------------------------------------
# (group, [(key, href, label, icon, permission)]): the left navigation, in order.
NAV = (
    ("Calls", (("numbers", "/", "Phone Numbers", "phone", "read"),
               ("agents", "/agents", "Agents", "users", "read"),
               ("analytics", "/analytics", "Analytics", "chart-line", "read"))),
    ("Account", (("billing", "/billing", "Billing", "credit-card", "billing.read"),
                 ("audit", "/audit", "Audit log", "scroll-text", "audit.read"),
                 ("settings", "/settings", "Settings", "settings", "read"))),
)


# The sandbox clock control's choices (seconds → label).
CLOCK_STEPS = {60: "1 minute", 3600: "1 hour", 6 * 3600: "6 hours", 86400: "1 day", 10 * 86400: "10 days"}


def page_context(request: Request, ctx: Ctx) -> dict[str, Any]:
    """What base.html needs: the viewer, the account, CSRF token, sandbox clock, nav."""
    viewer: Viewer = request.state.viewer
    account: Account = request.state.account
    sess = session_of(request)
    return {
        "viewer": viewer,
        "account": account,
        "role": ctx.role,
        "can": functools.partial(allowed, ctx.role),
        "csrf_token": sess.csrf if sess else "",
        "now": ctx.now(),
        "sandbox": ctx.settings.is_sandbox,
        "clock_now": ctx.clock.now(),
        "nav": [(group, [i for i in items if allowed(ctx.role, i[4])]) for group, items in NAV],
        "htmx": is_htmx(request),
        "settings": ctx.settings,
        "clock_steps": CLOCK_STEPS,
    }


def render(request: Request, ctx: Ctx, name: str, *, status_code: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> Response:
    """Render ``name`` with the page context plus ``context``."""
    return templates.TemplateResponse(
        request, name, {**page_context(request, ctx), **context}, status_code=status_code, headers=headers)


# -- errors in words a person can act on ----------------------------------------------
def blocker_line(b: dict[str, Any]) -> str:
    """One release blocker as a sentence a person can act on (the API's detail otherwise)."""
    code = b.get("code")
    if code == "active_calls":
        count = int(b.get("count") or 1)
        calls = "1 call is" if count == 1 else f"{count} calls are"
        return f"{calls} in progress on this number. Wait until {'it ends' if count == 1 else 'they end'}, " \
               "then release again."
    if code == "has_dependencies" and b.get("dependencies"):
        kinds = {"call_flow": "call flow", "automation": "automation"}
        names = ", ".join(f"{kinds.get(d.get('kind'), 'automation')} “{d.get('name')}”" for d in b["dependencies"])
        return f"Used by {names}. Tick “Also detach it from them” below, or remove the number from them first."
    return str(b.get("detail", ""))


env.globals["blocker_line"] = blocker_line


def error_lines(err: NumberdeskError, *, now: dt.datetime | None = None, role: str | None = None) -> list[str]:
    """A service error as sentences, one per line (every blocker on its own line)."""
    code = err.code
    extra = err.extra
    if code == "release_blocked":
        return [blocker_line(b) for b in extra.get("blockers", [])] or [err.detail]
    if code == "validation_error":
        errors = extra.get("errors") or []
        if errors:
            return [f"{_field_label(e.get('field', ''))}: {e.get('detail', '')}" for e in errors]
        return [err.detail]
    if code == "forbidden":
        who = f"The {role} role" if role else "Your role"
        return [f"{who} may not do this. Ask an admin or the account owner."]
    if code == "not_found":
        return ["That no longer exists in this account. Reload the page to see the current list."]
    if code == "number_unavailable":
        return [err.detail, "Search again and pick another number."]
    if code == "in_cooldown":
        ends = extra.get("cooldown_ends_at")
        if isinstance(ends, str) and now is not None:
            try:
                at = dt.datetime.fromisoformat(ends.replace("Z", "+00:00"))
                return [f"Reactivation refused: the cooldown has not ended. Reactivation possible in "
                        f"{until(at, now)} ({at:%b %-d, %H:%M} UTC)."]
            except ValueError:
                pass
        return [f"Reactivation refused: {err.detail}"]
    if code == "reclaim_window_expired":
        return [err.detail, "Contact support about an exception, or pick a similar available number."]
    if code == "maintenance":
        return [err.detail]
    if code == "carrier_error":
        return [f"The carrier refused: {err.detail}", "Nothing was bought or changed; try again or pick "
                "another number."]
    if code == "rate_limited":
        return ["Too many requests right now; wait a moment and try again."]
    return [err.detail]


def _field_label(field: str) -> str:
    return field.replace("_", " ").capitalize() or "Input"


__all__ = [
    "DashCtx", "DashReadCtx", "Forbidden", "Viewer", "csrf_guard", "dashboard_ctx", "dashboard_read_ctx",
    "error_lines", "icon", "is_htmx", "page_context", "render", "templates",
]
