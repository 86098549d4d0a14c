# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Run the shell examples of the documentation and compare their output.

Every ``.. code-block:: console`` of ``docs/*.rst`` is a sequence of commands (lines starting
with ``$ ``) each followed by its expected output (standard output and error together),
compared as doctest output with ``...`` as a wildcard and whitespace normalised. The commands
of one block run one after the other, in a temporary directory, with ``bash``.
"""
import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parent
_BLOCK = re.compile(
    r"^(?P<indent> *)\.\. code-block:: console\n\n(?P<body>(?:(?P=indent) {3,}.*\n|\n)+)", re.M)


def console_blocks():
    for page in sorted(DOCS.glob("*.rst")):
        text = page.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            lines = [line.strip() for line in match["body"].rstrip().splitlines()]
            steps = []
            for line in lines:
                if line.startswith("$ "):
                    steps.append([line[2:], []])
                elif steps:
                    steps[-1][1].append("" if line == "<BLANKLINE>" else line)
            line_no = text[:match.start()].count("\n") + 1
            yield pytest.param(steps, id=f"{page.name}:{line_no}")


def _environment():
    env = dict(os.environ, COLUMNS="80", MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    # the console scripts of the environment running the tests come first
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.mark.parametrize("steps", list(console_blocks()))
def test_console_example(steps, tmp_path):
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    env = _environment()
    for command, expected in steps:
        run = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        want = "\n".join(expected) + "\n" if expected else ""
        if want:
            assert checker.check_output(want, run.stdout, flags), (
                f"$ {command}\n--- expected\n{want}--- got\n{run.stdout}")
        else:  # a command shown without output must succeed
            assert run.returncode == 0, f"$ {command}\n{run.stdout}"
