"""Screenshots for README and docs/ from the real index, in Debian's headless Chromium:
the comparison of 地区生产总值 growth targets across the indexed reports (desktop and phone
width) and a citation's source view.

    .venv/bin/python scripts/docs_screenshots.py [--index index] [--reports reports]
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_helpers import ask, browser_page, running_app  # noqa: E402

QUESTION = "各区2024年地区生产总值增长目标分别是多少？"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=str(ROOT / "index"))
    parser.add_argument("--reports", default=str(ROOT / "reports"))
    args = parser.parse_args()
    docs = ROOT / "docs"
    with running_app(Path(args.index), Path(args.reports)) as url:
        for width, height, name in ((1366, 900, "comparison.png"), (390, 844, "comparison-phone.png")):
            with browser_page(url, width=width, height=height) as page:
                answer, _ = ask(page, QUESTION)
                page.wait_for_timeout(800)
                page.screenshot(path=str(docs / name))
                print("wrote", docs / name)
        with browser_page(url, width=1366, height=900) as page:
            answer, _ = ask(page, "Which district targets 16% industrial growth?")
            with page.context.expect_page() as opened:
                answer.locator(".qa-cite a.qa-src").first.click()
            source = opened.value
            source.wait_for_load_state()
            source.wait_for_timeout(500)
            source.screenshot(path=str(docs / "source.png"))
            print("wrote", docs / "source.png")


if __name__ == "__main__":
    main()
