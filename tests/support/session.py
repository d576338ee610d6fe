"""A browser-like session through urllib: cookies kept, the admin's login form filled in."""

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from tests.support.http import Response


class Session:
    """Cookies kept between requests to one site, as a browser keeps them."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, csrf: bool = False
    ) -> tuple[Response, str]:
        """One request; returns the response and the URL it ended at (after redirects)."""
        headers = {"Accept": "application/json"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if csrf and (token := self.cookie("csrftoken")):
            headers["X-CSRFToken"] = token
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=15) as reply:
                status, final, raw = reply.status, reply.url, reply.read()
                reply_headers = dict(reply.headers)
        except urllib.error.HTTPError as error:
            status, final, raw = error.code, error.url, error.read()
            reply_headers = dict(error.headers)
        body: Any
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return Response(status, reply_headers, body), final

    def admin_login(self, username: str, password: str) -> None:
        """Log in through /admin/login/ as a person would; raises unless it worked."""
        page, _ = self.request("GET", "/admin/login/?next=/admin/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert match, f"no CSRF token on the admin login page: {page}"
        form = {
            "csrfmiddlewaretoken": match.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
        done, final = self.request("POST", "/admin/login/?next=/admin/", form)
        assert done.status == 200 and final.endswith("/admin/"), (done.status, final)
