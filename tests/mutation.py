"""Apply a mutant's text edits to a reference solution."""


def apply_edits(text, edits, name):
    """``edits`` is [(text in the reference, replacement), ...]; each must occur exactly once."""
    for old, new in edits:
        if text.count(old) != 1:
            raise ValueError(f"mutant {name}: {old!r} must occur exactly once in the reference")
        text = text.replace(old, new)
    return text


def new_body(reference, function, body):
    """The edit that puts ``body`` in place of the solution lines of ``function`` in the file ``reference``."""
    text = reference.read_text()
    start = text.index(f"\ndef {function}(")
    begin = text.index("    ### BEGIN SOLUTION\n", start) + len("    ### BEGIN SOLUTION\n")
    end = text.index("    ### END SOLUTION", begin)
    return [(text[start:end], text[start:begin] + body)]
