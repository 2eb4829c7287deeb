"""Python XlsxWriter (constant_memory=True) writing the benchmark's rows.

Usage: bench_xlsxwriter.py ROWS.jsonl OUT.xlsx

ROWS.jsonl is the hand-over file of the Rust harness (bench/src/exports.rs): the header, then one
JSON array per row; null is an empty cell, {"t": "YYYY-MM-DDTHH:MM:SS"} a local date-time,
{"d": seconds} a duration, anything else a string, number or boolean.

Rows are read (and turned into datetime objects and day fractions) in chunks of 10,000; only
the writing (write_* calls and close()) is timed, so
parsing the hand-over file does not count. Prints one JSON object: rows, write_seconds,
write_cpu_seconds (user + system of the same spans) and peak_rss_kib (the interpreter's
VmHWM, everything included).
"""

import datetime
import json
import os
import resource
import sys
import time


def cpu() -> float:
    t = os.times()
    return t.user + t.system


import xlsxwriter

CHUNK = 10_000


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = workbook.add_worksheet("Data")
    dt_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    dur_format = workbook.add_format({"num_format": "[h]:mm:ss"})
    from_iso = datetime.datetime.fromisoformat

    def convert(v):
        # Hand-over format to Python values, while parsing (not timed).
        if type(v) is dict:
            return from_iso(v["t"]) if "t" in v else (v["d"] / 86400.0,)
        return v

    writing = 0.0
    cpu_writing = 0.0
    rows = 0
    with open(src, encoding="utf-8") as f:
        header = json.loads(f.readline())
        started, cpu_started = time.perf_counter(), cpu()
        for c, name in enumerate(header):
            sheet.write_string(0, c, name)
        writing += time.perf_counter() - started
        cpu_writing += cpu() - cpu_started
        r = 1
        while True:
            chunk = []
            for line in f:
                chunk.append([convert(v) for v in json.loads(line)])
                if len(chunk) == CHUNK:
                    break
            if not chunk:
                break
            started, cpu_started = time.perf_counter(), cpu()
            for row in chunk:
                for c, v in enumerate(row):
                    if v is None:
                        continue
                    t = type(v)
                    if t is str:
                        sheet.write_string(r, c, v)
                    elif t is bool:
                        sheet.write_boolean(r, c, v)
                    elif t is int or t is float:
                        sheet.write_number(r, c, v)
                    elif t is datetime.datetime:
                        sheet.write_datetime(r, c, v, dt_format)
                    else:
                        sheet.write_number(r, c, v[0], dur_format)
                r += 1
            rows += len(chunk)
            writing += time.perf_counter() - started
            cpu_writing += cpu() - cpu_started
    started, cpu_started = time.perf_counter(), cpu()
    workbook.close()
    writing += time.perf_counter() - started
    cpu_writing += cpu() - cpu_started
    # VmHWM, not ru_maxrss: ru_maxrss keeps the forking (Rust) process's peak across exec.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    print(
        json.dumps(
            {
                "rows": rows,
                "write_seconds": writing,
                "write_cpu_seconds": cpu_writing,
                "peak_rss_kib": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
