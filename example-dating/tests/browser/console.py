#!/usr/bin/env python3
"""The operator console in a real browser: Debian's Chromium driven by Playwright.

Run by tests/browser.rs, which starts example-dating, seeds it, and passes the scenario in
KOTORI_BROWSER_SCENARIO (JSON); it checks the database afterwards. Every page visited is
checked with axe-core (no critical violation) at a phone's width and saved as a screenshot in
KOTORI_BROWSER_SHOTS. Prints `RESULT {json}` for the Rust side; exits non-zero on a failure.
"""
import json
import os
import pathlib
import sys
import urllib.parse
import urllib.request

from playwright.sync_api import expect, sync_playwright

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "docs" / "src" / "dating"))
from sign import signed_params  # noqa: E402  (the book's documented client)

S = json.loads(os.environ["KOTORI_BROWSER_SCENARIO"])
BASE = S["base"]
ADMIN = BASE + "/manage/dating/admin/api"
SHOPS = BASE + "/manage/dating/shops/api"
SHOTS = pathlib.Path(S["shots"])
AXE = pathlib.Path(S["axe"]).read_text()
PHONE = {"width": 390, "height": 844}
# axe-core is injected as an inline script, which the console's Content-Security-Policy
# forbids (rightly): the test browser alone is told to bypass it.
CONTEXT = {"viewport": PHONE, "bypass_csp": True}
checked = []


def check(page, name):
    """axe-core on the page as it is (no critical or serious violation), the page no wider
    than the screen, and a screenshot."""
    page.add_script_tag(content=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    critical = [v for v in result["violations"] if v["impact"] in ("critical", "serious")]
    for v in result["violations"]:
        print(f"axe {name}: {v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} nodes)")
    assert not critical, f"{name}: critical accessibility violations {[v['id'] for v in critical]}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: {overflow}px wider than a phone's screen"
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    checked.append(name)


def log_in(page, name, next_url):
    # Without a session the page is a 401 showing the login form, at the page's own address.
    response = page.goto(next_url)
    assert response.status == 401, response.status
    assert page.url == next_url, page.url
    page.fill("#name", name)
    page.fill("#password", S["password"])
    page.click("form.box button[type=submit]")
    page.wait_for_url(next_url)


def post_danmaku(content):
    """A viewer's danmaku, through the signed API like any app would send it."""
    path = f"/api/live/{S['live_id']}/danmaku"
    params = signed_params({"content": content}, S["appkey"], S["appsecret"], token=S["viewer_token"])
    body = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(urllib.request.Request(BASE + path, data=body), timeout=10) as res:
        answer = json.load(res)
    assert answer["code"] == 0, answer
    return answer["data"]["danmaku_id"]


def main():
    result = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=S["chromium"], args=["--no-sandbox"])

        # An admin holding every privilege, at a phone's width.
        admin = browser.new_context(**CONTEXT)
        page = admin.new_page()
        page.goto(ADMIN + "/users")
        check(page, "login")
        log_in(page, S["admin"], ADMIN + "/users")
        check(page, "home-users")

        # Search a user, open their page.
        page.fill("#q", S["reported_phone"])
        page.click("form[role=search] button")
        link = page.get_by_role("link", name=str(S["reported_id"]), exact=True)
        expect(link).to_be_visible()
        check(page, "users")
        link.click()
        expect(page.locator("#standing")).to_have_text("active")
        check(page, "user")

        # The reports queue; open the report and ban from it.
        page.goto(ADMIN + "/reports")
        check(page, "reports")
        page.get_by_role("link", name=str(S["report_id"]), exact=True).click()
        expect(page.locator("#status")).to_have_text("open")
        check(page, "report")
        page.check("#ban")
        page.fill("#note", "confirmed in the browser")
        page.click("form.box button[type=submit]")
        expect(page.locator("#status")).to_have_text("resolved (ban)")
        page.goto(f"{ADMIN}/users/{S['reported_id']}")
        expect(page.locator("#standing")).to_contain_text("banned")

        # A POST without the CSRF token is refused, with the session's cookie.
        refused = page.request.post(f"{ADMIN}/users/{S['reported_id']}/unban", form={"back": "/manage"}, max_redirects=0)
        assert refused.status == 403, refused.status

        for name, url in [("orders", ADMIN + "/orders"), ("products", ADMIN + "/products"),
                          ("lives", ADMIN + "/live"), ("audit", ADMIN + "/audit")]:
            page.goto(url)
            check(page, name)
        expect(page.locator("main")).to_contain_text("reports.resolve")

        # A danmaku sent through the API appears on the live page without a reload.
        page.goto(f"{ADMIN}/live/{S['live_id']}")
        check(page, "live")
        page.wait_for_selector("#danmaku[data-connected=yes]", state="attached")
        danmaku_id = post_danmaku("hello from the API")
        expect(page.locator(f"#danmaku-{danmaku_id}")).to_contain_text("hello from the API")
        result["danmaku_id"] = danmaku_id

        # Logout ends the session: the old cookie opens nothing.
        cookie = next(c for c in admin.cookies() if c["name"] == "kotori_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        result["logged_out_token"] = cookie["value"]
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url("**/manage/login")
        assert page.goto(BASE + "/manage").status == 401
        expect(page.locator("#password")).to_be_visible()
        stale = browser.new_context()
        stale.add_cookies([{"name": "kotori_console", "value": cookie["value"], "url": BASE + "/manage"}])
        stale_page = stale.new_page()
        assert stale_page.goto(BASE + "/manage").status == 401
        expect(stale_page.locator("#password")).to_be_visible()
        stale.close()
        admin.close()

        # A host sees their own lives and no admin link.
        host = browser.new_context(**CONTEXT)
        page = host.new_page()
        log_in(page, S["host"], SHOPS + "/live")
        expect(page.get_by_role("link", name=str(S["live_id"]), exact=True)).to_be_visible()
        expect(page.get_by_role("link", name=str(S["other_live_id"]), exact=True)).to_have_count(0)
        assert "/admin/" not in page.content()
        check(page, "host-lives")
        host.close()

        # Without JavaScript the forms still work: lift the ban from the user's page.
        plain = browser.new_context(**CONTEXT, java_script_enabled=False)
        page = plain.new_page()
        log_in(page, S["admin"], f"{ADMIN}/users/{S['reported_id']}")
        page.get_by_role("button", name="Lift the ban").click()
        expect(page.locator("#standing")).to_have_text("active")
        plain.close()
        browser.close()
    result["checked"] = checked
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
