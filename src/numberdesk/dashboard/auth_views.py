"""Sign in with email and password, sign out. The session is a signed cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from numberdesk.accounts import service as accounts
from numberdesk.api.deps import app_state
from numberdesk.auth import sessions
from numberdesk.dashboard.common import local_path, session_of, templates

router = APIRouter(include_in_schema=False)


def set_session(request: Request, response: Response, data: sessions.SessionData) -> None:
    settings = app_state(request).settings
    response.set_cookie(
        sessions.COOKIE, sessions.dump(settings, data), max_age=sessions.MAX_AGE_SECONDS, path="/",
        httponly=True, samesite="lax", secure=settings.public_url.startswith("https://"))


def _sign_in_page(request: Request, sess: sessions.SessionData, *, next_url: str, email: str = "",
                  error: str | None = None, status_code: int = 200) -> Response:
    response = templates.TemplateResponse(
        request, "sign_in.html",
        {"csrf_token": sess.csrf, "next": next_url, "email": email, "error": error,
         "sandbox": app_state(request).settings.is_sandbox},
        status_code=status_code)
    set_session(request, response, sess)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str | None = None) -> Response:
    """The sign-in page (a visitor gets a session with a CSRF token, not yet a user)."""
    sess = session_of(request)
    if sess is not None and sess.user_id is not None and _still_signed_in(request, sess):
        return RedirectResponse(local_path(next), status_code=303)
    return _sign_in_page(request, sess or sessions.new_session(), next_url=local_path(next))


def _still_signed_in(request: Request, sess: sessions.SessionData) -> bool:
    """The cookie's person still exists and has not signed out since it was issued."""
    with app_state(request).db.session(write=False) as s:
        user = accounts.get_user(s, sess.user_id or "")
        return user is not None and user.session_epoch == sess.epoch


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, email: Annotated[str, Form(max_length=320)] = "",
            password: Annotated[str, Form(max_length=500)] = "",
            csrf_token: Annotated[str, Form(max_length=200)] = "",
            next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    sess = session_of(request)
    if not sessions.csrf_ok(sess, csrf_token):
        return _sign_in_page(request, sessions.new_session(), next_url=local_path(next), email=email,
                             error="The sign-in form had expired. Please sign in again.", status_code=403)
    st = app_state(request)
    with st.db.session(write=False) as s:
        user = accounts.authenticate_password(s, email, password)
        user_id = user.id if user is not None else None
        epoch = user.session_epoch if user is not None else 0
    if user_id is None:
        return _sign_in_page(request, sess, next_url=local_path(next), email=email,  # type: ignore[arg-type]
                             error="That email and password do not match a sign-in. Check both and try again.",
                             status_code=401)
    response = RedirectResponse(local_path(next), status_code=303)
    # A new CSRF token with every sign-in: a token seen before signing in is worthless after.
    set_session(request, response, sessions.new_session(user_id, epoch))
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    sess = session_of(request)
    token = request.headers.get(sessions.CSRF_HEADER) or csrf_token
    if not sessions.csrf_ok(sess, token):
        return HTMLResponse("<!doctype html><title>Refused</title><p>The sign-out form had expired. "
                            "<a href=\"/\">Go back</a> and sign out again.</p>", status_code=403)
    if sess is not None and sess.user_id is not None:
        with app_state(request).db.session() as s:
            accounts.end_sessions(s, sess.user_id)
    response = RedirectResponse("/sign-in", status_code=303)
    set_session(request, response, sessions.new_session())
    return response
