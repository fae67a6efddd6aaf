"""``snapshot._inapp.installed_path``: string methods that answer as the pattern does."""

from __future__ import annotations

import itertools
import random
import re

from snapshot._inapp import INSTALLED_PATTERN, installed_path

# Pieces of paths near the pattern's edges: separators, cases, versions, non-ASCII
# letters that IGNORECASE folds onto ASCII ones (the Kelvin sign, the long s).
PIECES = (
    "/", "\\", "lib", "LIB", "python", "Python", "3", ".", "11", "x", "site", "SITE",
    "dist", "-packages", "<frozen ", "<FROZEN ", "\u212a", "\u017fite", "py", "3.", "",
)  # fmt: skip


def _expected(name: str) -> bool:
    return re.search(INSTALLED_PATTERN, name, re.IGNORECASE) is not None


def test_installed_path_answers_as_the_pattern_on_paths_near_its_edges() -> None:
    names = [
        "/usr/lib/python3.11/json/decoder.py",
        "/usr/lib/python3/dist-packages/yaml/x.py",
        "C:\\Python311\\Lib\\site-packages\\pandas\\core\\frame.py",
        "C:\\Python311\\Lib\\json\\decoder.py",
        "/opt/venv/lib/python3.12/site-packages/dask/base.py",
        "/home/me/lib/python/mine.py",
        "/home/me/lib/python3x/mine.py",
        "/home/me/lib/python3.1.1/mine.py",
        "/home/me/lib/pythonic/mine.py",
        "/home/me/project/lib/python",
        "<frozen importlib._bootstrap>",
        "<dynamic-code>",
        "/home/me/SITE-PACKAGES/x.py",
        "/home/me/\u017fite-packages/x.py",  # long s: folds onto "s" under IGNORECASE
        "/home/me/lib/python3\u0661/x.py",  # an Arabic-Indic digit is not [0-9]
        "",
    ]
    for name in names:
        assert installed_path(name) == _expected(name), name
    for parts in itertools.product(PIECES, repeat=4):
        name = "".join(parts)
        assert installed_path(name) == _expected(name), name


def test_installed_path_answers_as_the_pattern_on_random_names() -> None:
    rng = random.Random(21)
    for _ in range(20_000):
        name = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 9)))
        assert installed_path(name) == _expected(name), name
