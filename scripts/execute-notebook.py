"""Executes one notebook headlessly with Jupyter's nbclient (what `jupyter nbconvert --execute`
uses) and saves the executed copy. On failure it still saves the cells run so far and prints
which cell failed with what the kernel wrote: tslab reports type errors and exceptions on the
cell's stderr, which nbconvert's own message leaves out.

    python3 scripts/execute-notebook.py SOURCE.ipynb OUT.ipynb TIMEOUT_SECONDS KERNEL_NAME

Exit status 0 when every cell ran, 1 when one failed, 2 on bad arguments. The kernel runs in
the notebook's own folder.
"""
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError


def text_of(output):
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    if output.get("output_type") == "error":
        return "%s: %s" % (output.get("ename", ""), output.get("evalue", ""))
    return ""


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
        ran = [i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code" and c.get("execution_count") is not None]
        index = ran[-1] if ran else None
        print("An error occurred while executing the following cell", file=sys.stderr)
        if index is not None:
            cell = nb.cells[index]
            print("cell %d:\n------------------\n%s\n------------------" % (index + 1, cell.source), file=sys.stderr)
            written = "".join(text_of(o) for o in cell.get("outputs", []))
            # The end of what the cell wrote holds the error; long progress logs come before it.
            print(written[-4000:], file=sys.stderr)
        if isinstance(error, CellTimeoutError):
            print("the cell ran longer than %d s (ADVLAB_CELL_TIMEOUT)" % timeout, file=sys.stderr)
        else:
            print(str(error).strip().splitlines()[-1], file=sys.stderr)
        nbformat.write(nb, out)
        return 1
    nbformat.write(nb, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
