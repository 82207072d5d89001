"""Apply a mutant's text edits to a reference solution."""


def apply_edits(text, edits, name):
    """``edits`` is [(text in the reference, replacement), ...]; each must occur exactly once."""
    for old, new in edits:
        if text.count(old) != 1:
            raise ValueError(f"mutant {name}: {old!r} must occur exactly once in the reference")
        text = text.replace(old, new)
    return text
