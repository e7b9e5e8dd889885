"""The web dashboard (`campaign web`, or `campaign run --web-port`): a third front door beside
the CLI and the daemon, for comms officers. Server-rendered pages (Starlette, Jinja2 templates
of ``scheduler/views``, a little htmx), served by uvicorn.

    app          create_app(): every route in one place, the middleware, the error pages
    context      Web (what every request shares) and Visit (one logged-in request)
    auth         the session cookie, the current user, the role guard, CSRF
    errors       error pages: 400, 403 (naming the role needed), 404, 500
    static       /static/{name}: the files of scheduler/views/static only
    login        /login and /logout
    overview     /: what needs attention, the pauses, the campaign's counts
    control      /pauses: the kill switch (pause, resume, suspended accounts)
    users        /users: the dashboard's users (admins)
    server       uvicorn in the foreground, or in a thread (tests, beside the daemon)

It calls ``scheduler.service`` only, never the store or the daemon (tests/test_architecture.py).
"""
