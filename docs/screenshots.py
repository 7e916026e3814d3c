"""Regenerate the pages' screenshots in docs/screenshots/ (shown in the README).

    .venv/bin/python docs/screenshots.py

Serves the app with the sample data from a temporary SQLite file on loopback and drives
Debian's chromium (SERVICEMAP_CHROMIUM, default /usr/bin/chromium) at 390 × 844, as a resident's
phone: 找服务 with results, the same in 长辈模式, and the console's dry-run report of a file with
invalid rows. No request leaves the machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from servicemap import create_app  # noqa: E402
from servicemap.auth import create_key  # noqa: E402
from servicemap.config import Config  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
RESULTS = "/?lat=29.8257&lon=106.4370&kind=meal_point&radius_m=3000"
CHECKED_FILE = (
    "外部编号,名称,类型,服务,性质,普惠,地址,区县代码,街道,纬度,经度,电话,开放时间,容量,空余\n"
    "BB-9,北碚区天生街道新村老年食堂,助餐点,助餐,社区,是,重庆市北碚区天生路8号,500109,天生街道,"
    "29.8261,106.4372,023-68200999,1-5 10:30-13:00,30,5\n"
    "BB-10,北碚区朝阳街道示例助餐点,助餐点,助餐,社区,是,重庆市北碚区北京路9号,500109,朝阳街道,"
    "99.5,106.4372,,1-5 10:30-13:00,30,5\n"
    "BB-11,北碚区东阳街道示例食堂,食堂,助餐,社区,是,重庆市北碚区东阳路3号,500109,东阳街道,"
    "29.8400,106.4500,,周八 10:30-13:00,30,-2\n"
)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        config = Config(database_url=f"sqlite:///{folder}/servicemap.sqlite3", instance_dir=Path(
            folder), log_level="WARNING", rate_limit_enabled=False)
        app = create_app(config)  # created and seeded on first run, as `flask run` does
        with app.app_context():
            key = create_key("admin", [], "screenshots")[1]
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            shoot(f"http://127.0.0.1:{server.server_port}", key, Path(folder))
        finally:
            server.shutdown()


def shoot(base: str, key: str, folder: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=base,
                                      timezone_id="Asia/Shanghai", device_scale_factor=1)
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(base) else route.abort())
        page = context.new_page()
        page.goto(RESULTS)
        page.screenshot(path=OUT / "find.png")
        page.goto(RESULTS + "&elder=1")
        page.screenshot(path=OUT / "find-elder.png")
        page.goto("/admin?elder=0")
        page.get_by_label("API 密钥", exact=True).fill(key)
        page.get_by_role("button", name="登录").click()
        page.wait_for_selector("[data-console]:not([hidden])")
        upload = folder / "facilities.csv"
        upload.write_text(CHECKED_FILE, encoding="utf-8")
        page.get_by_label("文件（CSV、XLSX、GeoJSON）").set_input_files(str(upload))
        page.get_by_role("button", name="预检").click()
        page.locator("[data-line]").first.wait_for()
        page.locator("#imports").scroll_into_view_if_needed()
        page.locator("#imports").screenshot(path=OUT / "admin-import.png")
        browser.close()
    for name in ("find.png", "find-elder.png", "admin-import.png"):
        print(OUT / name, (OUT / name).stat().st_size, "bytes")


if __name__ == "__main__":
    os.environ.setdefault("SERVICEMAP_LOG_LEVEL", "WARNING")
    main()
