"""Old Word files: speed and fidelity of antiword, catdoc and LibreOffice (issue 12).

    python scripts/word_bench.py [--folder /tmp/word-bench]

Writes each report in reports/ as a Word 97 .doc with LibreOffice (from its cleaned text), then
reads it back with each tool and scores character accuracy against that text (NFKC, whitespace
left out) and the seconds per file. Needs LibreOffice, antiword and catdoc installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.ingest import load_document, report_files  # noqa: E402
from scripts.ocr_accuracy import accuracy  # noqa: E402


def office() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise SystemExit("LibreOffice is needed to write the .doc files (apt-get install libreoffice-writer-nogui)")
    return found


def read(tool: str, path: Path) -> str:
    if tool == "antiword":
        return subprocess.run(["antiword", "-m", "UTF-8.txt", "-w", "0", str(path)], capture_output=True).stdout.decode()
    if tool == "catdoc":
        return subprocess.run(["catdoc", "-d", "utf-8", "-w", str(path)], capture_output=True).stdout.decode()
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([office(), "--headless", "--convert-to", "txt:Text (encoded):UTF8", "--outdir", out, str(path)],
                       capture_output=True, check=True)
        return (Path(out) / (path.stem + ".txt")).read_text(encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/word-bench"))
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    docs = []
    for path in report_files(ROOT / "reports"):
        text = load_document(path).text
        source = args.folder / (path.stem + ".txt")
        source.write_text(text, encoding="utf-8")
        subprocess.run([office(), "--headless", "--infilter=Text (encoded):UTF8", "--convert-to", "doc:MS Word 97",
                        "--outdir", str(args.folder), str(source)], capture_output=True, check=True)
        docs.append((args.folder / (path.stem + ".doc"), text))
    print("| tool | accuracy (mean of 5) | worst | seconds per file |")
    print("| --- | ---: | ---: | ---: |")
    for tool in ("antiword", "catdoc", "libreoffice"):
        scores, seconds = [], []
        for path, text in docs:
            started = time.perf_counter()
            out = read(tool, path)
            seconds.append(time.perf_counter() - started)
            scores.append(accuracy(out, text))
        print(f"| {tool} | {sum(scores) / len(scores):.4f} | {min(scores):.4f} | {sum(seconds) / len(seconds):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
