"""What the class autograder prints: one line per student, then the summary."""
import statistics

from .report import STUDENT_GRADED, STUDENT_NOT_GRADED, STUDENT_PARTLY_GRADED, STUDENT_STATUSES


def student_line(outcome, max_score, width):
    score = "-" if outcome.score is None else f"{outcome.score:.2f}"
    reason = f"GRADEBOOK MISMATCH: {outcome.mismatch}" if outcome.mismatch else outcome.reason
    return f"{outcome.student:<{width}}  {score:>6} / {max_score:<4g}  {outcome.status:<16}  {reason}".rstrip()


def summary_lines(outcomes, max_score, log_path, elapsed, jobs):
    counts = {s: sum(o.status == s for o in outcomes) for s in STUDENT_STATUSES}
    scored = [o.score for o in outcomes if o.score is not None]
    lines = [f"{len(outcomes)} students in {elapsed:.0f} s ({jobs} at a time): "
             f"{counts[STUDENT_GRADED]} graded, {counts[STUDENT_PARTLY_GRADED]} with items not graded, "
             f"{counts[STUDENT_NOT_GRADED]} could not grade"]  # grade-all's words (batch.write_summary)
    if scored:
        lines.append(f"mean {statistics.mean(scored):.2f} / {max_score:g}, median {statistics.median(scored):.2f} "
                     f"over the {len(scored)} students autograded")
    mismatched = [o.student for o in outcomes if o.mismatch]
    if mismatched:
        lines.append(f"GRADEBOOK MISMATCH: the gradebook disagrees with the engine's report for "
                     f"{len(mismatched)} student(s): {', '.join(mismatched)}")
    elif scored:
        lines.append("gradebook checked: every autograded student's grades equal the engine's report")
    if counts[STUDENT_PARTLY_GRADED]:
        lines.append(f"{counts[STUDENT_PARTLY_GRADED]} student(s) with items not graded (scored 0 until regraded): "
                     f"on a machine that can grade them (a CUDA GPU for GPU items), run this command again with "
                     f"--not-graded-only, into the same gradebook")
    if counts[STUDENT_NOT_GRADED]:
        lines.append(f"{counts[STUDENT_NOT_GRADED]} student(s) could not be graded; see the reasons above and the "
                     f"log, then run again with --student NAME for each")
    lines.append(f"nbgrader's log: {log_path}")
    return lines
