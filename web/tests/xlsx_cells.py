"""Reads a workbook the console downloaded: prints its sheet names, the Data sheet's header
row and its number of data rows as JSON (the browser tests open every downloaded .xlsx); also
the Data sheet's frozen top-left cell, autofilter range, column widths and its columns' values
(text as text, numbers as numbers), and the "About this report" sheet as label → value."""

import json
import re
import sys
import zipfile
from html import unescape


def column(reference):
    n = 0
    for ch in re.match(r"[A-Z]+", reference).group(0):
        n = n * 26 + ord(ch) - ord("A") + 1
    return n - 1


def cells(xml):
    """Rows of a sheet as lists of values (None where no cell was written)."""
    out = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", xml, flags=re.S):
        values = []
        for tag, body in re.findall(r"<c ([^>]*?)(?:/>|>(.*?)</c>)", row, flags=re.S):
            at = column(re.search(r'r="([A-Z]+\d+)"', tag).group(1))
            while len(values) < at:
                values.append(None)
            if 't="inlineStr"' in tag or 't="str"' in tag:
                value = unescape(re.sub(r"<[^>]+>", "", body or ""))
            else:
                v = re.search(r"<v>([^<]*)</v>", body or "")
                value = None if v is None else ('t="b"' in tag and v.group(1) == "1") if 't="b"' in tag else float(v.group(1))
            values.append(value)
        out.append(values)
    return out


with zipfile.ZipFile(sys.argv[1]) as book:
    workbook = book.read("xl/workbook.xml").decode("utf-8")
    sheets = [unescape(s) for s in re.findall(r'<sheet name="([^"]*)"', workbook)]
    data = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    about_xml = None
    if "About this report" in sheets:
        about_xml = book.read(f"xl/worksheets/sheet{sheets.index('About this report') + 1}.xml").decode("utf-8")
rows = re.findall(r"<row [^>]*>(.*?)</row>", data, flags=re.S)
header = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<c [^>]*>(.*?)</c>", rows[0], flags=re.S)] if rows else []
frozen = re.search(r'<pane [^>]*topLeftCell="([^"]*)"[^>]*state="frozen"', data)
autofilter = re.search(r'<autoFilter ref="([^"]*)"', data)
widths = {}
for lo, hi, width in re.findall(r'<col min="(\d+)" max="(\d+)" width="([^"]*)"', data):
    for c in range(int(lo), int(hi) + 1):
        widths[c - 1] = float(width)
table = cells(data)
columns = {name: [(r[i] if i < len(r) else None) for r in table[1:]] for i, name in enumerate(header)}
about = {r[0]: r[1] for r in cells(about_xml)} if about_xml else None
print(json.dumps({
    "sheets": sheets,
    "header": header,
    "data_rows": max(len(rows) - 1, 0),
    "frozen": frozen.group(1) if frozen else None,
    "autofilter": autofilter.group(1) if autofilter else None,
    "widths": [widths.get(i) for i in range(len(header))],
    "columns": columns,
    "about": about,
}))
