#!/usr/bin/env python3
"""unsandbox from Python with the official `openai` SDK: only `base_url` and the key change.

One plain call and one streamed call (`client.responses.stream`), each with the code_interpreter
tool. The links in `output_text` download the files the model wrote, even after its container
expired. Each `container_file_citation` keeps the link's `url` as an extra attribute
(`annotation.url`); `response.unsandbox` is an untyped dict (`{"files": [...]}`), and the manifest
of any response is `client.get("/responses/{id}/files", cast_to=object)`.

    npm start                            # in another terminal (simulated upstream without OPENAI_API_KEY)
    python3 examples/python/openai_sdk.py

Settings: UNSANDBOX_URL (default http://127.0.0.1:8787), UNSANDBOX_API_KEY (default the local key),
UNSANDBOX_PROMPT (the question).
"""
import os
import re

from openai import OpenAI

origin = os.environ.get("UNSANDBOX_URL", "http://127.0.0.1:8787")
# The two lines that change: base_url and api_key.
client = OpenAI(base_url=f"{origin}/v1", api_key=os.environ.get("UNSANDBOX_API_KEY", "usk_local_0123456789abcdef"))
tools = [{"type": "code_interpreter", "container": {"type": "auto"}}]
prompt = os.environ.get("UNSANDBOX_PROMPT", "Write the squares of 1 to 10 to squares.csv and link it.")


def report(label, response):
    """Prints the response id, the text, its links, the citations' URLs and the files unsandbox reported."""
    print(f"{label}: {response.id}")
    for f in (getattr(response, "unsandbox", None) or {}).get("files", []):
        print(f"  file {f['filename']}: {f['state']}")
    print(f"  text: {response.output_text.strip()}")
    for url in re.findall(r"https?://[^\s)\]]+/files/[^\s)\]]+", response.output_text):
        print(f"  link {url}")
    for item in response.output:
        if item.type != "message":
            continue
        for part in item.content:
            for a in getattr(part, "annotations", None) or []:
                url = getattr(a, "url", None)
                if url:
                    print(f"  source {url} {getattr(a, 'filename', None) or getattr(a, 'title', '')}")


# 1. Plain: the answer arrives once the files are copied (or after a bounded wait).
report("plain", client.responses.create(model="gpt-5", input=prompt, tools=tools))

# 2. Streamed: text deltas as they come, links already rewritten; the SDK checks every event.
deltas = ""
with client.responses.stream(model="gpt-5", input=prompt, tools=tools) as stream:
    for event in stream:
        if event.type == "response.output_text.delta":
            deltas += event.delta
    final = stream.get_final_response()
report("stream", final)
print(f"  deltas equal the final text: {deltas == final.output_text}")
manifest = client.get(f"/responses/{final.id}/files", cast_to=object)
print(f"  manifest: {len(manifest['data'])} file(s)")
