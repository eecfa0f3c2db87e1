"""The `qa` command end to end, as a user runs it (a subprocess, the hash embedder)."""

import json
import os
import subprocess
import sys

import pytest


def run(args, settings, stdin=None):
    env = {**os.environ, "QA_EMBEDDER": "hash", "QA_INDEX_DIR": str(settings.index_dir), "QA_REPORTS_DIR": str(settings.reports_dir)}
    return subprocess.run([sys.executable, "-m", "qa", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def indexed(settings):
    result = run(["index"], settings)
    assert result.returncode == 0, result.stderr
    return settings


def test_no_index_says_what_to_run(settings):
    result = run(["search", "万州区GDP"], settings)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: No index in {settings.index_dir}/ — run: qa index"
    assert "Traceback" not in result.stderr


def test_index_reports_per_file_cleaning(settings, reports):
    (reports / "损坏.txt").write_bytes(b"\x00" * 64)
    result = run(["index"], settings)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "4 reports" in out
    assert "荣昌区-繁体.txt: 重庆市荣昌区, district · 2024" in out and "pinyin annotations" in out
    assert "place from" in out and "year from" in out
    assert "梁平区-gbk.txt" in out and "[gb18030]" in out and "page markers 4" in out
    assert "skipped: 损坏.txt — binary file, not text" in out
    again = run(["index"], settings)
    assert "up to date" in again.stdout and "0 embedded" in again.stdout


def test_search_prints_cited_answer(indexed):
    result = run(["search", "哪个区提出规上工业增加值增长16%？", "--k", "3"], indexed)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("【万州区】 · 2024 target — ") and "16%" in first and first.endswith("[1]")
    assert "[1] 万州区 · 2024年重庆市万州区政府工作报告 · 二、2024年工作安排" in result.stdout
    assert "万州区-节选.txt:" in result.stdout


def test_batch_jsonl_contract(indexed):
    questions = "哪个区提出规上工业增加值增长16%？\nWhich district targets 16% industrial growth?\n萬州區2023年地區生產總值\n"
    result = run(["search", "--jsonl", "--k", "4"], indexed, stdin=questions)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    for obj in lines:
        assert set(obj) == {"question", "hits", "answer", "note", "table"}
        assert set(obj["answer"]) == {"district", "sentence", "abstain", "page"}
        assert obj["answer"]["page"] == ""  # text reports have no pages
        assert 1 <= len(obj["hits"]) <= 4
        for rank, hit in enumerate(obj["hits"], start=1):
            assert {"rank", "district", "source", "section", "text", "start", "end", "score", "page"} <= set(hit)
            assert hit["rank"] == rank
    assert lines[0]["question"] == "哪个区提出规上工业增加值增长16%？"
    assert lines[0]["answer"]["district"] == "万州区" and lines[0]["answer"]["abstain"] is False
    assert all(h["district"] == "万州区" for h in lines[2]["hits"])
    assert "万州区" in result.stdout  # not \u-escaped


def test_batch_line_n_answers_line_n(indexed):
    """Lines that are not questions get an error object on their own line; the batch goes on."""
    questions = ['{"question": 5}', "", "null", '{"question": null}', "{not json", '{"question": "万州区2023年地区生产总值"}',
                 "[1, 2]", "万州区2023年地区生产总值"]
    result = run(["search", "--jsonl"], indexed, stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(questions)
    errors = [i for i, obj in enumerate(lines) if "error" in obj]
    assert errors == [0, 1, 2, 3, 4, 6]
    assert all(lines[i]["error"] for i in errors)
    assert lines[5]["answer"] == lines[7]["answer"] and lines[5]["hits"]


def test_json_and_district_filter(indexed):
    result = run(["search", "地区生产总值", "--json", "--district", "荣昌区,璧山区"], indexed)
    obj = json.loads(result.stdout)
    assert {h["district"] for h in obj["hits"]} <= {"荣昌区", "璧山区"}


def test_user_mistakes_are_one_line(indexed):
    result = run(["search", "GDP", "--district", "火星区"], indexed)
    assert result.returncode == 1 and result.stderr.startswith("error: Unknown district 火星区")
    assert "Traceback" not in result.stderr
    result = run(["index", "--reports", str(indexed.reports_dir / "nope")], indexed)
    assert result.returncode == 1 and "Reports folder not found" in result.stderr
    result = run(["search", "GDP", "--k", "0"], indexed)
    assert result.returncode == 1 and "k must be a whole number from 1 to 50" in result.stderr
    result = run(["index", "--embedder", "bogus"], indexed)
    assert result.returncode == 1 and "Unknown embedder" in result.stderr


def test_broken_index_says_how_to_rebuild(indexed):
    build = indexed.index_dir / "builds" / (indexed.index_dir / "CURRENT").read_text().strip()
    (next((build / "segments").iterdir()) / "vectors.faiss").write_bytes(b"garbage")
    result = run(["search", "GDP"], indexed)
    assert result.returncode == 1 and "qa index --full" in result.stderr and "Traceback" not in result.stderr
    assert run(["index", "--full"], indexed).returncode == 0
    assert run(["search", "GDP"], indexed).returncode == 0


def test_status(indexed):
    result = run(["status"], indexed)
    assert result.returncode == 0 and result.stdout.strip() == "fresh"


def test_interactive_follow_ups_and_help(indexed):
    lines = [":help", "万州区2023年地区生产总值是多少？", "那璧山区呢？", ":k 0", ":k 2", ":new", ":bogus", ""]
    result = run(["search"], indexed, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ":new" in out and "Follow-ups" in out  # the help
    assert "understood as: 璧山区2023年地区生产总值是多少" in out and "983" in out
    assert "k must be a whole number from 1 to 50" in out and "unknown command :bogus" in out


def test_eval_of_the_elsewhere_set_by_its_path_uses_its_own_index(settings):
    """`qa eval --data eval/elsewhere/questions.jsonl` judges the set against the index of its
    reports, as the default run does, not against the bundled index (which holds none of them)."""
    from qa.cli import EVAL_SETS

    result = run(["eval", "--data", str(EVAL_SETS["elsewhere"]), "--no-save"], settings)
    assert result.returncode == 0, result.stderr
    assert "== elsewhere · hybrid" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("| all |"))
    recall_at_5 = float(row.split("|")[5])
    assert recall_at_5 > 0.5, row
