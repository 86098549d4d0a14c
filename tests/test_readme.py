"""The README's offline example runs as printed (its live examples are marked as such)."""
import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def _python_block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_offline_example_runs_as_printed():
    names: dict = {}
    exec(compile(_python_block_after("## Offline: the emulator"), "README.md", "exec"), names)
    assert len(names["t"]) == 21 and "d:tag" not in names["t"].colnames
    assert sorted(set(names["lim"]["d:tag"])) == ["upperlim", "valid"]
    assert list(names["lim"]["d:tag"]).count("upperlim") == 33
    assert len(names["lc"]) == 346 and names["lc"]["r:diaObjectId"][0] == 170028485706776685


def test_the_live_examples_say_they_are_live():
    text = README.read_text(encoding="utf-8")
    block = text[text.index("## The Fink documentation's examples"):]
    assert "These ask the live service" in block.split("```python")[0]
