"""The glossary (docs/glossary.md) covers the lectures' headings, and the lectures share one heading style."""
import re

import nbformat
import pytest

from helpers import REPO

GLOSSARY = REPO / "docs" / "glossary.md"
LECTURES = sorted((REPO / "lectures").glob("0[1-4]_*.ipynb"))

# Terms the lectures' headings use, as the glossary's English column writes them.
HEADING_TERMS = {
    "sigmoid neuron": "sigmoid neuron", "perceptron": "perceptron", "activation": "activation function",
    "derivative": "derivative", "chain rule": "chain rule", "computational graph": "computational graph",
    "gradient checking": "gradient checking", "central difference": "central difference", "softmax": "softmax",
    "backpropagation": "backpropagation", "mini-batch": "mini-batch", "stochastic": "stochastic gradient descent",
    "full-batch": "full-batch gradient descent", "standardising the inputs": "standardising the inputs",
    "initialisation": "initialisation", "L2 regularisation": "L2 regularisation", "optimizers": "optimizer",
    "GPU": "GPU", "elementwise kernel": "elementwise kernel", "timing": "timing", "batch size": "batch size",
    "speedup": "speedup",
}


def headings():
    for path in LECTURES:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("#"):
                        yield path, line


def glossary_rows():
    """{English term cell: Russian cell} from the terms table."""
    rows = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and not set(cells[0]) <= set("-"):
            rows[cells[0]] = cells[1]
    return rows


def test_every_heading_term_is_in_a_heading_and_in_the_glossary_with_a_russian_name():
    heading_text = " ".join(line for _, line in headings()).lower()
    rows = glossary_rows()
    for in_heading, in_glossary in HEADING_TERMS.items():
        assert in_heading.lower() in heading_text, f"no lecture heading uses {in_heading!r}: update the list"
        matches = [russian for english, russian in rows.items() if in_glossary.lower() in english.lower()]
        assert matches and all(re.search("[а-яё]", r, re.IGNORECASE) for r in matches), in_glossary


def test_the_glossary_has_at_least_30_terms_and_the_notation_table():
    rows = glossary_rows()
    assert len(rows) >= 30 + 1  # the header row counts once
    text = GLOSSARY.read_text(encoding="utf-8")
    for russian in ("обратное распространение ошибки", "функция потерь", "смещение", "скорость обучения",
                    "переобучение", "сокращение весов", "исчезающий", "импульс", "вычислительный граф", "ядро",
                    "мини-пакет", "эпоха"):
        assert russian in text
    for symbol in (r"$\Delta w = -\eta\, \delta\, v$", r"$\Delta w = +\varepsilon\, \delta\, a$", r"$\mathrm{net}$"):
        assert symbol in text


def test_worked_sign_flip_numbers_are_right():
    a, target, x, rate = 0.8, 1.0, 0.5, 0.1
    course_delta = (a - target) * a * (1 - a)
    other_delta = (target - a) * a * (1 - a)
    text = GLOSSARY.read_text(encoding="utf-8")
    assert f"{course_delta:.3f}" in text and f"+{other_delta:.3f}" in text
    assert -rate * course_delta * x == pytest.approx(rate * other_delta * x) == pytest.approx(0.0016)
    assert "+0.0016" in text


def test_lectures_use_one_title_then_numbered_sections_and_link_the_glossary_once():
    for path in LECTURES:
        number = int(path.name[:2])
        lines = [line for p, line in headings() if p == path]
        assert re.fullmatch(rf"# Lecture {number}: \S.*", lines[0]), (path.name, lines[0])
        assert all(line.startswith("## ") for line in lines[1:]), (path.name, lines)
        sections = [line for line in lines[1:] if line != "## Summary"]
        assert [int(re.match(r"## (\d+)\. ", s).group(1)) for s in sections] == list(range(1, len(sections) + 1))
        assert lines[-1] == "## Summary"
        text = "".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert text.count("](../docs/glossary.md)") == 1, path.name
