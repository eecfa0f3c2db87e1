"""Keyword tokenizers for Chinese text: character bigrams or jieba words, plus numbers kept whole.

Numbers ("7.2%", "983", "1.2万") stay single tokens so an exact figure in a question matches the
same figure in a passage and nothing else.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

_TOKEN_RE = re.compile(r"(\d+(?:\.\d+)?%?)|([a-z][a-z0-9&\-']*)|([\u3400-\u9fff]+)")


def bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str, kind: str = "bigram") -> list[str]:
    """Tokens of a text for the keyword index: numbers, lower-case Latin words, and Chinese as
    overlapping character bigrams ("bigram") or jieba search-mode words ("jieba")."""
    tokens: list[str] = []
    for number, word, han in _TOKEN_RE.findall(text.lower()):
        if number:
            tokens.append(number)
        elif word:
            tokens.append(word)
        elif kind == "jieba":
            tokens.extend(w for w in _jieba().lcut_for_search(han) if w.strip())
        else:
            tokens.extend(bigrams(han))
    return tokens


# A bare 19xx/20xx with no unit after it ("in 2024") is a year as well.
_FIGURE_RE = re.compile(r"(?<![\d.])(?!(?:19|20)\d{2}(?![\d.%万亿元个人户家套天吨亩]))\d+(?:\.\d+)?%?(?![\d.年])")


def numbers_in(text: str) -> list[str]:
    """Figures in a text as written: "16%", "983", "7.2%"; years ("2023年") are dates, not figures."""
    return _FIGURE_RE.findall(text)
