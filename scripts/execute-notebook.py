"""Executes one notebook headlessly with Jupyter's nbclient (what `jupyter nbconvert --execute`
uses) and saves the executed copy. On failure it still saves the cells run so far and reports,
on stderr, in this order: the notebook, the failing cell (its number among all cells and
among code cells), the error text the kernel wrote (tslab reports type errors and exceptions on
the cell's stderr, which nbconvert's own message leaves out), then the cell's source, shortened
in the middle when it is long. The error comes before the source, so no cell is too long for
it; an error without a message is reported as such.

    python3 scripts/execute-notebook.py SOURCE.ipynb OUT.ipynb TIMEOUT_SECONDS KERNEL_NAME

Exit status 0 when every cell ran, 1 when one failed, 2 on bad arguments. The kernel runs in
the notebook's own folder.
"""
import os
import re
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

#: The first line of a failure report (scripts/run-notebooks.ts looks for it).
MARKER = "NOTEBOOK FAILED:"
#: Source lines shown at each end of a long cell.
SOURCE_LINES_EACH_END = 15
#: At most this many characters of error text (its end, where the error is, when longer).
ERROR_CHARS = 6000

STACK_LINE = re.compile(r"^\s+at .*$|^\s+\.\.\. \d+ more lines? matching cause stack trace lines$")
BARE_ERROR = re.compile(r"^(Uncaught )?([A-Za-z_$][\w$]*)?(Error|Exception)$")


def error_text(cell, error):
    """What the cell wrote to stderr and any error outputs, without stack frames; or a sentence
    saying there was no message."""
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stderr":
            parts.append("".join(output.get("text", "")))
        elif kind == "error":
            ename, evalue = output.get("ename", ""), output.get("evalue", "")
            parts.append(("%s: %s" % (ename, evalue)) if evalue else (ename or ""))
    lines = [line for line in "".join(parts).splitlines() if not STACK_LINE.match(line)]
    text = "\n".join(lines).strip()
    if not text and isinstance(error, CellExecutionError):
        ename, evalue = getattr(error, "ename", "") or "", getattr(error, "evalue", "") or ""
        if ename and ename != "<Error>":
            text = ("%s: %s" % (ename, evalue)) if evalue else ename
    if not text:
        return "(the cell failed without an error message: the kernel wrote nothing on stderr and sent no error)"
    if len(text) > ERROR_CHARS:
        text = "... (%d characters before this left out)\n%s" % (len(text) - ERROR_CHARS, text[-ERROR_CHARS:])
    # A thrown Error without a message shows as its bare name ("Error"): say so.
    bare = [i for i, line in enumerate(text.splitlines()) if BARE_ERROR.match(line.strip())]
    if bare:
        lines = text.splitlines()
        for i in bare:
            lines[i] = "%s (thrown without a message)" % lines[i].strip()
        text = "\n".join(lines)
    return text


def source_excerpt(source):
    lines = source.splitlines()
    n = SOURCE_LINES_EACH_END
    if len(lines) <= 2 * n + 1:
        return source
    return "\n".join(lines[:n] + ["... (%d lines left out) ..." % (len(lines) - 2 * n)] + lines[-n:])


def report(source, nb, error, timeout):
    ran = [i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code" and c.get("execution_count") is not None]
    code_cells = [i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"]
    out = sys.stderr
    if not ran:
        print("%s %s: no cell ran (%s)" % (MARKER, source, describe(error)), file=out)
        return
    index = ran[-1]
    cell = nb.cells[index]
    lines = cell.source.count("\n") + 1
    print("%s %s, cell %d of %d (code cell %d of %d, %d line%s)" % (
        MARKER, source, index + 1, len(nb.cells), code_cells.index(index) + 1, len(code_cells), lines, "" if lines == 1 else "s"), file=out)
    if isinstance(error, CellTimeoutError):
        print("error: the cell ran longer than %d s (ADVLAB_CELL_TIMEOUT)" % timeout, file=out)
    else:
        print("error:\n%s" % error_text(cell, error), file=out)
    print("the cell:\n------------------\n%s\n------------------" % source_excerpt(cell.source), file=out)


def describe(error):
    message = str(error).strip()
    return "%s: %s" % (type(error).__name__, message) if message else "%s (no message)" % type(error).__name__


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    source, out, timeout, kernel = argv[1], argv[2], int(argv[3]), argv[4]
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}},
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as error:
        report(source, nb, error, timeout)
        nbformat.write(nb, out)
        return 1
    except Exception as error:  # the kernel died, would not start, ...
        print("%s %s: the run stopped: %s" % (MARKER, source, describe(error)), file=sys.stderr)
        nbformat.write(nb, out)
        return 1
    nbformat.write(nb, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
