"""Grading results: the JSON every tool reads, and the table people read."""
import json
from dataclasses import asdict, dataclass, field

GRADED = "graded"
NOT_GRADED = "not graded"


@dataclass
class ItemResult:
    name: str
    score: float
    max_score: float
    feedback: str
    status: str = GRADED
    checks_passed: int = 0
    checks_total: int = 0


@dataclass
class Report:
    assignment: str
    items: list
    seed: int = 0
    sandbox: str = "none"
    elapsed_s: float = 0.0
    suite: str = "hidden"
    warnings: list = field(default_factory=list)
    isolation: list = field(default_factory=list)  # what bounded and hid student code (sandbox.isolation)

    @property
    def score(self):
        return round(sum(i.score for i in self.items), 4)

    @property
    def max_score(self):
        return round(sum(i.max_score for i in self.items), 4)

    @property
    def not_graded(self):
        return [i.name for i in self.items if i.status == NOT_GRADED]

    def to_dict(self):
        return {
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "items": [asdict(i) for i in self.items],
            "not_graded": self.not_graded,
            "seed": self.seed,
            "sandbox": self.sandbox,
            "suite": self.suite,
            "elapsed_s": round(self.elapsed_s, 3),
            "warnings": self.warnings,
            "isolation": self.isolation,
        }

    def write_json(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")

    def table(self, width=100):
        lines = [f"{self.assignment}: {self.score:.2f} / {self.max_score:g}"
                 + (f"   ({len(self.not_graded)} item(s) NOT GRADED)" if self.not_graded else "")]
        name_w = max(len(i.name) for i in self.items) if self.items else 4
        for i in self.items:
            mark = "--" if i.status == NOT_GRADED else ("ok" if i.score == i.max_score else "XX")
            pts = f"{i.score:.2f}/{i.max_score:g}"
            feedback = i.feedback.replace("\n- ", " | ")
            feedback = feedback if len(feedback) <= width else feedback[: width - 3] + "..."
            lines.append(f"  {mark} {i.name:<{name_w}}  {pts:>8}  {feedback}")
        for w in self.warnings:
            lines.append(f"  WARNING: {w}")
        return "\n".join(lines)


def feedback_for(tally):
    notes = "".join(f"\n  {n}" for n in tally.notes)  # measurements worth seeing, pass or fail
    if tally.total == 0 or tally.skipped:
        return "not graded: " + ("; ".join(dict.fromkeys(tally.skipped)) or "no checks ran") + notes
    if tally.passed == tally.total:
        return ("the check passed" if tally.total == 1 else f"all {tally.total} checks passed") + notes
    return f"{tally.passed}/{tally.total} checks passed." + "".join(f"\n- {m}" for m in tally.messages) + notes
