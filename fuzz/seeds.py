"""Seed corpus for the spec_load fuzz target, from what the repository
already holds: the example specs, the YAML blocks of the docs, and the specs
written inline in the tests (raw strings and plain strings that start a
spec). Usage: python3 seeds.py CORPUS_DIR"""

import glob
import hashlib
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
seeds = []
for f in sorted(glob.glob(os.path.join(root, "specs", "**", "*.yaml"), recursive=True)):
    seeds.append(open(f, encoding="utf-8").read())
for f in sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True)):
    seeds += re.findall(r"```yaml\n(.*?)```", open(f, encoding="utf-8").read(), re.S)
rust = glob.glob(os.path.join(root, "tests", "*.rs")) + glob.glob(os.path.join(root, "crates", "*", "src", "**", "*.rs"), recursive=True)
for f in sorted(rust):
    text = open(f, encoding="utf-8").read()
    for s in re.findall(r'r#"(.*?)"#', text, re.S):
        if "resources:" in s or "version:" in s:
            seeds.append(s)
    for s in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text):
        if s.startswith("version: 1\\n"):
            seeds.append(s.encode().decode("unicode_escape", errors="ignore"))
n = 0
for s in seeds:
    data = s.encode("utf-8", errors="ignore")
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(out, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        n += 1
print(f"{n} new seeds in {out} ({len(seeds)} found)")
