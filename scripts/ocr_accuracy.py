"""OCR accuracy and cost, on scanned pages made here (issue 12).

    python scripts/ocr_accuracy.py [--pages 3] [--json docs/ocr_accuracy.json]
    python scripts/ocr_accuracy.py --make-scans DIR [--dpi 200]

The first form typesets the cleaned text of each report in reports/ onto A4 pages (tests/scans.py)
at 150, 200 and 300 dpi, reads the first --pages pages of each back with qa.ocr (no cache), and scores
character accuracy, 1 − edit distance / printed characters, after NFKC and with whitespace left out
(full- and half-width punctuation count as equal). It also scores one photographed-looking page per
report (300 dpi, turned 2°, uneven light, noise, JPEG quality 45; and a harder one: 150 dpi, 5°,
more noise and blur, JPEG 30) and the pages of eval/elsewhere/chengbu-2024.pdf rendered by pdfium
at 150, 200 and 300 dpi against that PDF's own text
layer. The second form writes the five reports as image-only PDFs (every page) for
`QA_REPORTS_DIR=DIR qa index` and `qa eval` on OCR'd reports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz.distance import Levenshtein  # noqa: E402

from qa.ingest import load_document, report_files  # noqa: E402
from qa.ocr import page_text, recognise  # noqa: E402
from tests.scans import photographed, save_pdf, typeset  # noqa: E402


def normal(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def accuracy(read: str, printed: str) -> float:
    truth = normal(printed)
    return max(0.0, 1 - Levenshtein.distance(normal(read), truth) / max(len(truth), 1))


def ocr(image) -> tuple[str, float]:
    started = time.perf_counter()
    text = page_text(recognise(image))
    return text, time.perf_counter() - started


def paragraphs(path: Path) -> list[str]:
    return [p for p in load_document(path).text.split("\n") if p.strip()]


def measure(pages_per_report: int) -> dict:
    reports = report_files(ROOT / "reports")
    ocr(typeset(["预热"], dpi=150)[0][0])  # the engine's first call loads its models
    rows = []
    for dpi in (150, 200, 300):
        for path in reports:
            for number, (image, printed) in enumerate(typeset(paragraphs(path), dpi=dpi)[:pages_per_report], start=1):
                text, seconds = ocr(image)
                rows.append({"kind": f"typeset {dpi} dpi", "report": path.name, "page": number,
                             "chars": len(normal(printed)), "accuracy": accuracy(text, printed), "seconds": seconds})
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    for path in reports:
        image, printed = typeset(paragraphs(path), dpi=300)[1]
        text, seconds = ocr(photographed(image))
        rows.append({"kind": "photographed (300 dpi, 2°, noise, JPEG)", "report": path.name, "page": 2,
                     "chars": len(normal(printed)), "accuracy": accuracy(text, printed), "seconds": seconds})
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
        text, seconds = ocr(photographed(image.resize((image.width // 2, image.height // 2)), angle=5, quality=30,
                                         noise=20, blur=1.2))
        rows.append({"kind": "photographed, harder (150 dpi, 5°, more noise, JPEG 30)", "report": path.name,
                     "page": 2, "chars": len(normal(printed)), "accuracy": accuracy(text, printed), "seconds": seconds})
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    pdf = ROOT / "eval" / "elsewhere" / "chengbu-2024.pdf"
    if pdf.exists():
        import pypdfium2 as pdfium
        from pypdf import PdfReader

        layer = [p.extract_text() or "" for p in PdfReader(str(pdf)).pages]
        document = pdfium.PdfDocument(str(pdf))
        for dpi in (150, 200, 300):
            for i, printed in enumerate(layer):
                text, seconds = ocr(document[i].render(scale=dpi / 72).to_pil())
                rows.append({"kind": f"PDF page rendered {dpi} dpi", "report": pdf.name, "page": i + 1,
                             "chars": len(normal(printed)), "accuracy": accuracy(text, printed), "seconds": seconds})
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    return {"rows": rows, "summary": summary(rows)}


def summary(rows: list[dict]) -> dict:
    out = {}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        group = [r for r in rows if r["kind"] == kind]
        chars = sum(r["chars"] for r in group)
        out[kind] = {
            "pages": len(group),
            "accuracy": round(sum(r["accuracy"] * r["chars"] for r in group) / chars, 4),  # weighted by characters
            "worst page": round(min(r["accuracy"] for r in group), 4),
            "seconds per page": round(statistics.median(r["seconds"] for r in group), 2),
        }
    return out


def make_scans(folder: Path, dpi: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in report_files(ROOT / "reports"):
        pages = typeset(paragraphs(path), dpi=dpi)
        target = save_pdf([image for image, _ in pages], folder / (path.stem + ".pdf"), dpi)
        print(f"{target}: {len(pages)} pages")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=3, help="pages read per report and dpi")
    parser.add_argument("--json", type=Path, help="write rows and summary here")
    parser.add_argument("--make-scans", type=Path, metavar="DIR", help="write image-only PDFs of the reports")
    parser.add_argument("--dpi", type=int, default=200)
    args = parser.parse_args()
    if args.make_scans:
        make_scans(args.make_scans, args.dpi)
        return 0
    result = measure(args.pages)
    print(json.dumps(result["summary"], ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
