"""Reads a workbook the console downloaded: prints its sheet names, the Data sheet's header
row and its number of data rows as JSON (the browser tests open every downloaded .xlsx)."""

import json
import re
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as book:
    workbook = book.read("xl/workbook.xml").decode("utf-8")
    sheets = re.findall(r'<sheet name="([^"]*)"', workbook)
    data = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
rows = re.findall(r"<row [^>]*>(.*?)</row>", data, flags=re.S)
header = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<c [^>]*>(.*?)</c>", rows[0], flags=re.S)] if rows else []
print(json.dumps({"sheets": sheets, "header": header, "data_rows": max(len(rows) - 1, 0)}))
