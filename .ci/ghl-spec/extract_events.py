"""Saves the JSON blocks of GHL's webhook event pages as files, verbatim.

For each `docs/webhook events/<Event>.md` of GoHighLevel/highlevel-api-docs, the fenced
```json json_schema block becomes <Event>.schema.json and each plain ```json block
<Event>.example.json (<Event>.example.2.json, .3 … when a page has several). Only the
whitespace at the end is normalised, to one newline.
Usage: extract_events.py <pages dir> <out dir> <Event>...
"""
import os
import sys


def blocks(text):
    """Yields (info string, body) for each fenced block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("```") and len(line) > 3:
            info, body = line[3:].strip(), []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            yield info, "\n".join(body).rstrip() + "\n"
        i += 1


def main():
    pages, out, events = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    for event in events:
        with open(os.path.join(pages, event + ".md"), encoding="utf-8") as f:
            text = f.read()
        examples = 0
        for info, body in blocks(text):
            words = info.split()
            if not words or words[0] != "json":
                continue
            if "json_schema" in words[1:]:
                name = event + ".schema.json"
            else:
                examples += 1
                suffix = "" if examples == 1 else "." + str(examples)
                name = event + ".example" + suffix + ".json"
            with open(os.path.join(out, name), "w", encoding="utf-8") as f:
                f.write(body)
        if examples == 0:
            sys.exit(event + ": no example block found")


main()
