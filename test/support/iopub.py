"""Runs one cell (the code on stdin) in a fresh tslab kernel and prints, as JSON, the reply status
and every message the kernel published for it: the display messages a front end receives while
the cell runs (display_data, update_display_data with their display ids), streams and errors.

    printf '%s' 'console.log(1)' | python3 test/support/iopub.py [DEADLINE_SECONDS]

When the kernel has not gone idle within DEADLINE_SECONDS (default 300), it prints what did
arrive, with status "timeout": a kernel that stops publishing shows as such rather than a hang.
"""
import json
import os
import queue
import sys
import time

from jupyter_client.manager import start_new_kernel


def main():
    code = sys.stdin.read()
    deadline = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 300)
    km, kc = start_new_kernel(kernel_name="tslab", cwd=os.getcwd())
    try:
        msg_id = kc.execute(code)
        messages = []
        while True:
            try:
                m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                print(json.dumps({"status": "timeout", "messages": messages}))
                return
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            kind = m["msg_type"]
            content = m["content"]
            if kind == "status":
                if content["execution_state"] == "idle":
                    break
                continue
            entry = {"type": kind}
            if kind in ("display_data", "update_display_data"):
                entry["displayId"] = content.get("transient", {}).get("display_id")
                entry["mimes"] = sorted(content["data"].keys())
                entry["text"] = content["data"].get("text/plain", "")
            elif kind == "stream":
                entry["text"] = content["text"]
            elif kind == "error":
                entry["text"] = content.get("evalue", "")
            messages.append(entry)
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        print(json.dumps({"status": reply["content"]["status"], "messages": messages}))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
