"""Benchmark: server time of every console and portal page on the demo database.

Goal: the slowest page's median time over 20 requests is at most 20x the median of the bare
FastAPI route of bench/api_overhead.py, measured in the same run
(`RESULT slowest_page_vs_bare`, goal <= 20).

The demo is seeded with the CDNOW master log as Groove Records' purchase history (and a fit),
as `accord demo` does; `--quick` uses the 1/10 sample and 10 requests a page. The pages are
found by following links from the console's and the portal's home pages, signed in as Groove's
owner and as a demo person, so pages added later are measured without editing this file; each
route is measured once (its first address found). The cookies are as a browser holds them
once it has followed the sign-in's redirect (the one-time notice shown, the form token set).
Every page gets one request to warm up,
then `wrk -t1 -c1` sends the requests one after the other and reports the median and the
slowest (wrk's own timer); the bare route is measured the same way right before each page,
and each page's ratio is against that measurement.

Prints one line per page (median, max, ratio) and `RESULT slowest_page_vs_bare <ratio>`,
`RESULT slowest_page_max_ms <ms>`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
from _common import ROOT, free_port, stop, wait_up

GOAL = 20.0
DEMO_PASSWORD = "accord-demo-2026"
MEMBER = "owner@groove.example"
PERSON = "ada@people.example"
# Not pages a person reads, or ones that change state or need a mailed token.
SKIP = re.compile(r"^/(api|static|dev|u|auth|invitations|consent/confirm|contacts/verify)(/|$)")
WRK_SCRIPT = """
local n = 0
local limit = {limit}
function response(status, headers, body)
  n = n + 1
  if n >= limit then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  io.write(string.format("PAGES %d %d %d %.1f %.1f\\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50), latency.max))
end
"""


def cdnow_dir(given: str | None) -> Path:
    found = Path(given or os.environ.get("ACCORD_CDNOW_DIR") or ROOT.parent / "shared/data/cdnow")
    if not (found / "CDNOW_master.txt").is_file():
        sys.exit(f"no CDNOW data at {found}: pass --cdnow DIR or set ACCORD_CDNOW_DIR")
    return found


def seed_demo(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "accord", "demo", "--no-serve"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def member_cookies(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, headers={"accept": "text/html"}) as client:
        csrf = _csrf(client.get("/console/signin").text)
        form = {"email": MEMBER, "password": DEMO_PASSWORD, "csrf_token": csrf}
        done = client.post("/console/signin", data=form)
        if done.status_code != 303:
            raise RuntimeError(f"member sign-in failed: {done.status_code}")
        return settled(client, done)


def person_cookies(base: str, database_url: str) -> httpx.Cookies:
    """Sign in as a person would: ask for a link, take it from the dev mailbox, use it."""
    from sqlalchemy import create_engine, text

    with httpx.Client(base_url=base, headers={"accept": "text/html"}) as client:
        csrf = _csrf(client.get("/signin").text)
        client.post("/signin", data={"email": PERSON, "csrf_token": csrf})
        engine = create_engine(database_url)
        with engine.connect() as conn:
            body = conn.execute(
                text(
                    "SELECT text_body FROM dev_mail_messages WHERE recipients = :to "
                    "ORDER BY created_at DESC LIMIT 1"
                ),
                {"to": PERSON},
            ).scalar_one()
        engine.dispose()
        token = re.search(r"/auth/link\?token=([\w-]+)", body)
        if token is None:
            raise RuntimeError("no sign-in link in the dev mailbox")
        form = {"token": token.group(1), "csrf_token": _csrf(client.get("/signin").text)}
        done = client.post("/auth/link", data=form)
        if done.status_code != 303:
            raise RuntimeError(f"person sign-in failed: {done.status_code}")
        return settled(client, done)


def settled(client: httpx.Client, signed_in: httpx.Response) -> httpx.Cookies:
    """The cookie as a browser holds it from its second page on: it follows the sign-in's
    redirect, which shows the "signed in" notice once and sets the form token. The cookie the
    sign-in answer set still carries both to do, so every measured request would show the
    notice and re-sign the session, work a person's browser asks for once."""
    client.get(signed_in.headers["location"])
    return client.cookies


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if found is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    return found.group(1)


ID = re.compile(r"/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)(?=/|$)")


def route_of(path: str) -> str:
    """The route an address belongs to: ids (UUIDs, numbers) in its path made placeholders."""
    return ID.sub("/{id}", path)


def crawl(base: str, cookies: httpx.Cookies, start: str) -> dict[str, str]:
    """Route template -> the first address found for it, following same-site links."""
    found: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    with httpx.Client(base_url=base, cookies=cookies, headers={"accept": "text/html"}) as client:
        while queue:
            address = queue.popleft()
            response = client.get(address)
            kind = response.headers.get("content-type", "")
            if response.status_code != 200 or not kind.startswith("text/html"):
                continue
            path = urlsplit(address).path
            found.setdefault(route_of(path), address)
            for href in re.findall(r'<a [^>]*href="([^"#][^"]*)"', response.text):
                target = urldefrag(urljoin(base + address, href.replace("&amp;", "&")))[0]
                parts = urlsplit(target)
                if f"{parts.scheme}://{parts.netloc}" != base or SKIP.match(parts.path):
                    continue
                local = parts.path + (f"?{parts.query}" if parts.query else "")
                template = route_of(parts.path)
                if local not in seen and (template not in found or template == parts.path):
                    seen.add(local)
                    queue.append(local)
    return found


def measure(url: str, cookies: httpx.Cookies | None, requests: int, workdir: Path) -> tuple:
    """(median ms, max ms) of `requests` sequential GETs, timed by wrk."""
    header = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
    with httpx.Client(cookies=cookies, headers={"accept": "text/html"}) as client:
        client.get(url)  # warm-up
        seconds = client.get(url).elapsed.total_seconds()
    script = workdir / "stop.lua"
    script.write_text(WRK_SCRIPT.replace("{limit}", str(requests)))
    duration = max(1, int(requests * seconds * 2) + 1)
    for _ in range(4):  # a loaded machine may need longer: twice the time, up to four tries
        command = ["wrk", "-t1", "-c1", f"-d{duration}s", "-s", str(script)]
        command += ["-H", "accept: text/html"] + (["-H", f"Cookie: {header}"] if header else [])
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
        line = next(row for row in out.splitlines() if row.startswith("PAGES "))
        done, bad_status, failed, p50, worst = line.split()[1:]
        if int(done) >= requests:
            break
        duration *= 2
    if int(bad_status) or int(failed) or int(done) < requests:
        raise RuntimeError(f"{url}: {done} answers, {bad_status} not 2xx/3xx, {failed} failed")
    return float(p50) / 1e6, float(worst) / 1e6  # wrk reports microseconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="CDNOW sample, 10 requests a page")
    parser.add_argument("--cdnow", help="directory with CDNOW_master.txt (or ACCORD_CDNOW_DIR)")
    parser.add_argument("--requests", type=int, help="requests per page (default 20, quick 10)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    requests = args.requests or (10 if args.quick else 20)
    source = cdnow_dir(args.cdnow)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        data = workdir / "cdnow"
        data.mkdir()
        master = source / ("CDNOW_sample.txt" if args.quick else "CDNOW_master.txt")
        shutil.copy(master, data / "CDNOW_master.txt")
        port, bare_port = free_port(), free_port()
        database_url = f"sqlite:///{workdir}/demo.db"
        env = {
            **os.environ,
            "ACCORD_VAR_DIR": str(workdir / "var"),
            "ACCORD_DATABASE_URL": database_url,
            "ACCORD_CDNOW_DIR": str(data),
            "ACCORD_BASE_URL": f"http://127.0.0.1:{port}",
            "ACCORD_WORKER_IN_PROCESS": "false",
            "ACCORD_SECRET_KEY": "bench-secret-not-for-production",
        }
        seed_demo(env)
        log = (workdir / "serve.log").open("wb")
        accord = subprocess.Popen(
            [sys.executable, "-m", "accord", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        payload = workdir / "payload.json"
        payload.write_text('{"status": "ok"}')
        bare = subprocess.Popen(
            [sys.executable, str(ROOT / "bench/api_overhead.py"), "--serve-bare",
             str(bare_port), str(payload)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            try:
                wait_up(base + "/healthz", accord)
            except RuntimeError as exc:
                sys.exit(f"{exc}\n{(workdir / 'serve.log').read_text()[-3000:]}")
            bare_url = f"http://127.0.0.1:{bare_port}/api/v1/brand"
            wait_up(bare_url, bare)
            run(base, bare_url, database_url, requests, workdir)
        finally:
            stop(accord)
            stop(bare)


def run(
    base: str,
    bare_url: str,
    database_url: str,
    requests: int,
    workdir: Path,
) -> None:
    member = member_cookies(base)
    person = person_cookies(base, database_url)
    pages = [(member, address) for address in crawl(base, member, "/console").values()] + [
        (person, address) for address in crawl(base, person, "/home").values()
    ]
    worst_ratio, worst_max, worst_page = 0.0, 0.0, ""
    bares: list[float] = []
    for cookies, address in sorted(pages, key=lambda p: p[1]):
        # The bare route right before each page: drift in the machine's load hits both alike.
        bare_p50, _ = measure(bare_url, None, requests, workdir)
        bares.append(bare_p50)
        p50, slowest = measure(base + address, cookies, requests, workdir)
        ratio = p50 / bare_p50
        times = f"median {p50 * 1000:7.2f} ms  max {slowest * 1000:7.2f} ms"
        print(f"{address:60} {times}  bare {bare_p50 * 1000:5.2f} ms  {ratio:6.1f}x")
        if ratio > worst_ratio:
            worst_ratio, worst_page = ratio, address
        worst_max = max(worst_max, slowest)
    bares.sort()
    print(f"bare FastAPI route: median of medians {bares[len(bares) // 2] * 1000:.2f} ms")
    print(f"{len(pages)} pages; slowest median: {worst_page}")
    print(f"RESULT slowest_page_vs_bare {worst_ratio:.1f}")
    print(f"RESULT slowest_page_max_ms {worst_max * 1000:.1f}")
    print(f"goal <= {GOAL:g}: {'met' if worst_ratio <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
