"""Counts the words of a text file: one "<count> <word>" line per word, most frequent first, ties in
alphabetical order. Standard library only, so it runs on any python3 (the runner image has one)."""
import collections
import re
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    words = re.findall(r"[a-z']+", f.read().lower())
for word, count in sorted(collections.Counter(words).items(), key=lambda kv: (-kv[1], kv[0])):
    print(f"{count} {word}")
