#!/usr/bin/env python3
"""Prints each failed test of a .trx file with the head of its message and stack trace.

The console log of a long run is often cut; this puts the failures at its very end.
"""
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
MAX_LINES = 25

root = ET.parse(sys.argv[1]).getroot()
for result in root.iterfind(".//t:UnitTestResult", NS):
    if result.get("outcome") != "Failed":
        continue
    print(f"FAILED {result.get('testName')} ({result.get('duration')})")
    info = result.find("t:Output/t:ErrorInfo", NS)
    if info is None:
        continue
    for part in ("Message", "StackTrace"):
        text = info.findtext(f"t:{part}", default="", namespaces=NS)
        for line in text.strip().splitlines()[:MAX_LINES]:
            print(f"    {line}")
