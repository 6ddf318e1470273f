"""Sign-in, profile, set-password links, admin user management, cohorts and the audit log."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, or_, select
from wtforms.fields.choices import SelectChoice

from lms.access import public, roles, rule, signed_in
from lms.accounts import forms, services
from lms.accounts.models import AuditEvent, Cohort, MembershipRequest, User
from lms.accounts.services import AccountError, SignInThrottled, Throttle
from lms.api import services as api_tokens
from lms.api.models import ApiToken
from lms.db import utcnow
from lms.extensions import db, limiter
from lms.validation import page_arg, text_problem
from lms.web import ActionForm, actor, cohort_manager

bp = Blueprint("accounts", __name__)

PAGE_SIZE = 50


def me() -> User:
    """The signed-in account as an ORM object, for views that change it."""
    return db.session.get(User, current_user.id)


def _form_error(form, error: AccountError) -> None:
    """Attach a service error to the form field it names, or show it as a flash."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        flash(str(error), "error")


def _safe_next(target: str | None) -> str | None:
    """Allow only same-site relative redirects after sign-in."""
    if not target or "\\" in target or text_problem(target):  # browsers read /\host as //host
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # "//[": an unclosed IPv6 host
        return None
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def unauthorized():
    """Anonymous requests: JSON 401 for the API, otherwise a redirect to sign in."""
    if request.path.startswith("/api/"):
        return {"error": "unauthorized", "message": "Send a personal API token: Authorization: Bearer <token>"}, 401
    flash("Please sign in to see that page.", "info")
    return redirect(url_for("accounts.login", next=request.full_path if request.query_string else request.path))


def load_signed_in_user(session_key: str):
    """Flask-Login user loader: the live session named by the cookie, or nobody."""
    now = utcnow()
    user = services.load_session_user(db.session, session_key, now, current_app.permanent_session_lifetime)
    if user is not None and services.touch_session(db.session, user, now):
        # At most once a minute. Flask-Login loads the user when a view first asks for it, which the
        # access decorators do before the view runs, so nothing else is pending in this transaction.
        db.session.commit()
    return user


def _sign_in(user: User) -> None:
    """Start a recorded session for ``user`` on this client (the caller commits)."""
    login_user(services.start_session(db.session, user, utcnow(), request.user_agent.string or "",
                                      request.remote_addr or ""))


def _throttles() -> tuple[Throttle, Throttle]:
    config = current_app.config
    return Throttle.parse(config["LOGIN_LIMIT_PER_ACCOUNT"]), Throttle.parse(config["LOGIN_LIMIT_PER_IP"])


# --- sign-in ---------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = forms.LoginForm()
    if form.validate_on_submit():
        ip, per_account, per_ip = request.remote_addr or "", *_throttles()
        # Failures are counted in the database, so every worker and server sees the same numbers.
        attempt = services.begin_sign_in(db.session, form.email.data, ip, utcnow(), per_account, per_ip)
        db.session.commit()
        try:
            services.check_sign_in(db.session, attempt, utcnow(), per_account, per_ip)
        except SignInThrottled as throttled:
            db.session.commit()
            flash(str(throttled), "error")
            return render_template("accounts/login.html", form=form), 429, {"Retry-After": str(throttled.retry_after)}
        try:
            user = services.authenticate(db.session, form.email.data, form.password.data, ip, utcnow())
        except AccountError as error:
            db.session.commit()  # keep the failure (it counts) and its audit record
            flash(str(error), "error")
            return render_template("accounts/login.html", form=form), 200
        services.forget_attempt(db.session, attempt)
        _sign_in(user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")) or url_for("core.home"))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    form = forms.LogoutForm()
    if form.validate_on_submit():
        if current_user.session_id is not None:
            services.end_session(db.session, current_user.id, current_user.session_id, utcnow())
        services.audit(db.session, actor(), "logout", me())
        db.session.commit()
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per 10 minutes")
def set_password(token: str):
    try:
        link = services.find_password_link(db.session, token, utcnow())
    except AccountError as error:
        return render_template("accounts/set_password.html", form=None, problem=str(error)), 410
    form = forms.SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.use_password_link(db.session, token, form.password.data, utcnow(),
                                              request.remote_addr or "")
        except AccountError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is set. Sign in with it now.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/set_password.html", form=form, problem=None, email=link.user.email)


# --- profile ---------------------------------------------------------------------------

@bp.route("/profile", methods=["GET", "POST"])
@signed_in
def profile():
    user = me()
    form = forms.ProfileForm(obj=user if request.method == "GET" else None)
    password_form = forms.ChangePasswordForm(prefix="pw")
    if form.submit.data and form.validate_on_submit():
        try:
            services.update_profile(db.session, actor(), user, form.name.data, form.email.data,
                                    form.nabp_eprofile_id.data or "", form.birth_mmdd.data or "")
        except AccountError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash("Your profile is saved.", "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(form, password_form)


def _profile_page(form, password_form, status: int = 200, new_token: str | None = None, token_form=None):
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == current_user.id)
                                .order_by(ApiToken.created_at.desc())).all()
    now = utcnow()
    sessions = services.live_sessions(db.session, current_user.id, now, current_app.permanent_session_lifetime)
    return render_template("accounts/profile.html", form=form, password_form=password_form, tokens=tokens,
                           token_form=token_form or forms.TokenForm(prefix="token"), new_token=new_token,
                           action_form=ActionForm(), sessions=sessions, now=now,
                           current_session_id=current_user.session_id), status


@bp.route("/profile/api-tokens", methods=["POST"])
@signed_in
def create_api_token():
    token_form = forms.TokenForm(prefix="token")
    user = me()
    secret = None
    if token_form.validate_on_submit():
        try:
            _token, secret = api_tokens.create_token(db.session, actor(), user.id, token_form.name.data, utcnow(),
                                                     token_form.days.data)
        except api_tokens.TokenError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            token_form = None  # a fresh form for the next token
    else:
        flash("Name the token and choose how long it lasts from the list.", "error")
    return _profile_page(forms.ProfileForm(obj=user, formdata=None), forms.ChangePasswordForm(prefix="pw"),
                         new_token=secret, token_form=token_form)


@bp.route("/profile/api-tokens/<int:token_id>/revoke", methods=["POST"])
@signed_in
def revoke_api_token(token_id: int):
    try:
        api_tokens.revoke_token(db.session, actor(), current_user.id, token_id, utcnow())
    except api_tokens.TokenError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Token revoked. Anything using it can no longer reach the API.", "success")
    return redirect(url_for("accounts.profile") + "#api-h")


@bp.route("/profile/password", methods=["POST"])
@signed_in
def change_password():
    user = me()
    form = forms.ProfileForm(obj=user, formdata=None)
    password_form = forms.ChangePasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            services.change_password(db.session, actor(), user, password_form.current_password.data,
                                     password_form.new_password.data, utcnow(), password_form.revoke_tokens.data)
        except AccountError as error:
            db.session.rollback()
            _form_error(password_form, error)
        else:
            _sign_in(user)  # every session ended, this one too: this device continues in a new one
            db.session.commit()
            flash("Your password is changed. Other devices have been signed out"
                  + (" and your API tokens revoked." if password_form.revoke_tokens.data else "."), "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(form, password_form, status=400)


@bp.route("/profile/sessions/<int:session_id>/end", methods=["POST"])
@signed_in
def end_session(session_id: int):
    if not services.end_session(db.session, current_user.id, session_id, utcnow()):
        flash("That session is not one of yours or has already ended.", "error")
        return redirect(url_for("accounts.profile") + "#sessions-h")
    services.audit(db.session, actor(), "session.ended", None, session_id=session_id)
    db.session.commit()
    if session_id == current_user.session_id:
        logout_user()
        flash("You are signed out.", "info")
        return redirect(url_for("accounts.login"))
    flash("That session is signed out.", "success")
    return redirect(url_for("accounts.profile") + "#sessions-h")


@bp.route("/profile/sessions/end-all", methods=["POST"])
@signed_in
def end_all_sessions():
    """Sign out everywhere: every session of this account ends, this one included."""
    ended = services.end_all_sessions(db.session, current_user.id, utcnow())
    services.audit(db.session, actor(), "session.ended_everywhere", None, sessions_ended=ended)
    db.session.commit()
    logout_user()
    flash("You are signed out everywhere. Sign in again on the devices you use.", "info")
    return redirect(url_for("accounts.login"))


# --- admin: users ----------------------------------------------------------------------

@bp.route("/admin/users")
@roles("admin")
def user_list():
    query_text = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    page = page_arg()
    query = select(User)
    if query_text:
        like = f"%{query_text.lower()}%"
        query = query.where(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
    if role in ("trainee", "supervisor", "admin"):
        query = query.where(User.role == role)
    pagination = db.paginate(query.order_by(User.name, User.id), page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/users.html", pagination=pagination, q=query_text, role=role,
                           action_form=ActionForm())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles("admin")
def user_new():
    form = forms.UserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(db.session, actor(), form.email.data, form.name.data, form.role.data)
            token = services.issue_password_link(db.session, actor(), user, utcnow(),
                                                 current_app.config["SET_PASSWORD_LINK_HOURS"])
        except AccountError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            return _show_link(user, token)
    return render_template("admin/user_form.html", form=form, user=None)


def _show_link(user: User, token: str):
    link = url_for("accounts.set_password", token=token, _external=True)
    hours = current_app.config["SET_PASSWORD_LINK_HOURS"]
    return render_template("admin/password_link.html", user=user, link=link, hours=hours)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles("admin")
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = forms.UserForm(obj=user)
    if form.validate_on_submit():
        try:
            services.update_user(db.session, actor(), user, form.email.data, form.name.data, form.role.data)
        except AccountError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("accounts.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user, action_form=ActionForm())


@bp.route("/admin/users/<int:user_id>/password-link", methods=["POST"])
@roles("admin")
def user_password_link(user_id: int):
    user = db.get_or_404(User, user_id)
    if not user.active:
        flash("Reactivate the account before sending a set-password link.", "error")
        return redirect(url_for("accounts.user_edit", user_id=user.id))
    token = services.issue_password_link(db.session, actor(), user, utcnow(),
                                         current_app.config["SET_PASSWORD_LINK_HOURS"])
    db.session.commit()
    return _show_link(user, token)


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@roles("admin")
def user_set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    make_active = request.form.get("active") == "1"
    try:
        services.set_active(db.session, actor(), user, make_active, utcnow())
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{user.email} is {'active again' if make_active else 'deactivated'}.", "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


@bp.route("/admin/audit")
@roles("admin")
def audit_log():
    page = page_arg()
    action = request.args.get("action", "").strip()
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.like(f"{action}%"))
    pagination = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/audit.html", pagination=pagination, action=action)


# --- cohorts ---------------------------------------------------------------------------

def _supervisor_choices() -> list[SelectChoice]:
    users = db.session.scalars(select(User).where(User.role.in_(("supervisor", "admin")), User.active)
                               .order_by(User.name))
    return [SelectChoice(u.id, f"{u.display_name} ({u.email})") for u in users]


@bp.route("/cohorts")
@roles("supervisor", "admin")
def cohort_list():
    cohorts = services.visible_cohorts(db.session, current_user)
    return render_template("accounts/cohorts.html", cohorts=cohorts,
                           pending_requests=len(services.requests_to_decide(db.session, current_user)))


@bp.route("/cohorts/new", methods=["GET", "POST"])
@roles("admin")
def cohort_new():
    form = forms.CohortForm()
    form.supervisor_id.choices = _supervisor_choices()
    if form.validate_on_submit():
        try:
            cohort = services.create_cohort(db.session, actor(), form.name.data, form.description.data or "",
                                            [form.supervisor_id.data])
        except AccountError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(f"Created cohort {cohort.name}.", "success")
            return redirect(url_for("accounts.cohort_detail", cohort_id=cohort.id))
    return render_template("accounts/cohort_new.html", form=form)


@bp.route("/cohorts/<int:cohort_id>", methods=["GET", "POST"])
@cohort_manager
def cohort_detail(cohort_id: int):
    cohort = db.session.get(Cohort, cohort_id)
    member_form = forms.AddMemberForm(prefix="member")
    supervisor_form = forms.AddSupervisorForm(prefix="supervisor")
    supervisor_form.supervisor_id.choices = _supervisor_choices()
    status = 200
    if member_form.submit.data and member_form.validate_on_submit():
        try:
            services.add_member(db.session, actor(), current_user, cohort, member_form.email.data, utcnow())
        except AccountError as error:
            db.session.rollback()
            _form_error(member_form, error)
            status = 400
        else:
            db.session.commit()
            # One wording whatever happened: it must not tell which emails are trainees, staff or unknown.
            flash(services.ADD_MEMBER_MESSAGE, "info")
            return redirect(url_for("accounts.cohort_detail", cohort_id=cohort.id))
    elif member_form.submit.data:
        status = 400
    return render_template("accounts/cohort_detail.html", cohort=cohort, member_form=member_form,
                           supervisor_form=supervisor_form, action_form=ActionForm()), status


@bp.route("/cohorts/<int:cohort_id>/members/<int:user_id>/remove", methods=["POST"])
@cohort_manager
def cohort_remove_member(cohort_id: int, user_id: int):
    cohort = db.session.get(Cohort, cohort_id)
    try:
        services.remove_member(db.session, actor(), cohort, user_id)
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Removed the trainee from the cohort. Their records are kept.", "success")
    return redirect(url_for("accounts.cohort_detail", cohort_id=cohort.id))


@bp.route("/cohorts/<int:cohort_id>/supervisors", methods=["POST"])
@roles("admin")
def cohort_add_supervisor(cohort_id: int):
    cohort = db.get_or_404(Cohort, cohort_id)
    form = forms.AddSupervisorForm(prefix="supervisor")
    form.supervisor_id.choices = _supervisor_choices()
    if form.validate_on_submit():
        try:
            services.add_supervisor(db.session, actor(), cohort, db.session.get(User, form.supervisor_id.data))
        except AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Supervisor added.", "success")
    else:
        flash("Choose a supervisor from the list.", "error")
    return redirect(url_for("accounts.cohort_detail", cohort_id=cohort.id))


@bp.route("/cohorts/<int:cohort_id>/supervisors/<int:user_id>/remove", methods=["POST"])
@roles("admin")
def cohort_remove_supervisor(cohort_id: int, user_id: int):
    cohort = db.get_or_404(Cohort, cohort_id)
    try:
        services.remove_supervisor(db.session, actor(), cohort, user_id)
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Supervisor removed.", "success")
    return redirect(url_for("accounts.cohort_detail", cohort_id=cohort.id))


# --- membership requests -----------------------------------------------------------------

@bp.route("/cohorts/requests")
@roles("supervisor", "admin")
def membership_requests():
    """Requests from other supervisors to add trainees of this supervisor's cohorts (every request, for admins)."""
    pending = services.requests_to_decide(db.session, current_user)
    return render_template("accounts/requests.html", requests=pending, action_form=ActionForm())


def _request_decider(view_args: dict) -> None:
    membership_request = db.session.get(MembershipRequest, view_args["request_id"])
    # 404 rather than 403: a request says who asked for whom, which is not for anyone else to learn.
    if membership_request is None or not services.can_decide_request(db.session, current_user, membership_request):
        abort(404)


request_decider = rule("owner of a cohort the trainee is in (not the requester), or admin", ("supervisor", "admin"),
                       _request_decider)


@bp.route("/cohorts/requests/<int:request_id>/<any(accept, decline):decision>", methods=["POST"])
@request_decider
def decide_request(request_id: int, decision: str):
    membership_request = db.session.get(MembershipRequest, request_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_request(db.session, actor(), current_user, membership_request, decision == "accept",
                                utcnow())
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        who, cohort = membership_request.user.email, membership_request.cohort.name
        flash(f"Added {who} to {cohort}." if decision == "accept" else f"Declined adding {who} to {cohort}.",
              "success")
    return redirect(url_for("accounts.membership_requests"))
