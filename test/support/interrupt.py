"""Interrupts cells of a real tslab kernel, as Jupyter's "Interrupt kernel" does, and reports what
happened, as JSON. Stdin: a JSON object {"setup": code, "cells": [{"code", "interruptAfter"}], "check": code}.
The setup cell runs first; each cell is sent, interrupted `interruptAfter` seconds after the
kernel turns busy with it (a SIGINT to the kernel: the kernel spec's default interrupt mode),
and timed until the kernel is idle; after each, the check cell runs (it should print what the
test wants to see).

    python3 test/support/interrupt.py < spec.json
"""
import json
import os
import sys
import time
from queue import Empty

from jupyter_client.manager import start_new_kernel


def run(kc, code, timeout=300):
    """Executes `code`; returns (status, text of streams and errors)."""
    msg_id = kc.execute(code)
    texts = []
    while True:
        m = kc.get_iopub_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = m["msg_type"], m["content"]
        if kind == "status" and content["execution_state"] == "idle":
            break
        if kind == "stream":
            texts.append(content["text"])
        elif kind == "error":
            texts.append(content.get("evalue", ""))
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["status"], "".join(texts)


def main():
    spec = json.load(sys.stdin)
    km, kc = start_new_kernel(kernel_name="tslab", cwd=os.getcwd())
    report = {"cells": []}
    try:
        report["setup"] = run(kc, spec["setup"])
        print(json.dumps(report["setup"]), file=sys.stderr, flush=True)
        for cell in spec["cells"]:
            msg_id = kc.execute(cell["code"])
            # Wait until the kernel is busy with the cell, then give it the stated time.
            while True:
                m = kc.get_iopub_msg(timeout=120)
                if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" \
                        and m["content"]["execution_state"] == "busy":
                    break
            time.sleep(cell["interruptAfter"])
            # An interrupt that arrives while tslab still compiles the cell is lost (no code of the
            # cell runs yet, so nothing is interrupted), as it is for a user, who presses again:
            # so does this, up to 3 times, 5 s apart. Seconds count from the last interrupt.
            texts = []
            interrupts = 0
            idle = False
            while not idle and interrupts < 3:
                sent = time.monotonic()
                km.interrupt_kernel()
                interrupts += 1
                while True:
                    try:
                        m = kc.get_iopub_msg(timeout=max(0.1, sent + 5 - time.monotonic()))
                    except Empty:
                        break
                    if m["parent_header"].get("msg_id") != msg_id:
                        continue
                    kind, content = m["msg_type"], m["content"]
                    if kind == "status" and content["execution_state"] == "idle":
                        idle = True
                        break
                    if kind == "stream":
                        texts.append(content["text"])
                    elif kind == "error":
                        texts.append(content.get("evalue", ""))
            seconds = time.monotonic() - sent
            if not idle:
                raise RuntimeError(f"the kernel was still busy 5 s after the third interrupt of {cell['code']!r}")
            # tslab drops requests that arrive within 200 ms of a failed cell.
            time.sleep(0.5)
            check = run(kc, spec["check"], timeout=120)
            report["cells"].append({"seconds": seconds, "interrupts": interrupts, "text": "".join(texts), "check": check})
            print(json.dumps(report["cells"][-1]), file=sys.stderr, flush=True)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
