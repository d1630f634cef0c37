#!/usr/bin/env python3
"""unsandbox from the OpenAI Agents SDK for Python (`openai-agents`): the agent's OpenAI client gets
unsandbox's `base_url` and key; nothing else changes.

A run and a streamed run of an agent with the hosted code-interpreter tool: `final_output` has
working download links. Each message's citations (a `container_file_citation` with the link's
`url` as an extra attribute) are in `result.new_items[].raw_item.content[].annotations`; the
manifest of a response is `GET /v1/responses/{id}/files` (`result.last_response_id`).
Tracing is off: the SDK would send traces to OpenAI with the key it has, which is unsandbox's.

    npm start                            # in another terminal (simulated upstream without OPENAI_API_KEY)
    python3 examples/python/agents_sdk.py

Settings: UNSANDBOX_URL (default http://127.0.0.1:8787), UNSANDBOX_API_KEY (default the local key),
UNSANDBOX_PROMPT (the question).
"""
import asyncio
import os
import re

from agents import Agent, CodeInterpreterTool, Runner, set_default_openai_api, set_default_openai_client, set_tracing_disabled
from openai import AsyncOpenAI

origin = os.environ.get("UNSANDBOX_URL", "http://127.0.0.1:8787")
# The two lines that change: the client's base_url and api_key.
set_default_openai_client(AsyncOpenAI(base_url=f"{origin}/v1", api_key=os.environ.get("UNSANDBOX_API_KEY", "usk_local_0123456789abcdef")))
set_default_openai_api("responses")
set_tracing_disabled(True)

agent = Agent(
    name="Analyst",
    instructions="You write files with the code interpreter and link them in your answer.",
    model="gpt-5",
    tools=[CodeInterpreterTool(tool_config={"type": "code_interpreter", "container": {"type": "auto"}})],
)
prompt = os.environ.get("UNSANDBOX_PROMPT", "Write the squares of 1 to 10 to squares.csv and link it.")


def report(label, result):
    """Prints the last response id, the final output, its links and the citations' URLs."""
    text = str(result.final_output)
    print(f"{label}: {result.last_response_id}")
    print(f"  text: {text.strip()}")
    for url in re.findall(r"https?://[^\s)\]]+/files/[^\s)\]]+", text):
        print(f"  link {url}")
    for item in result.new_items:
        if item.type != "message_output_item":
            continue
        for part in item.raw_item.content:
            for a in getattr(part, "annotations", None) or []:
                url = getattr(a, "url", None)
                if url:
                    print(f"  source {url} {getattr(a, 'filename', '')}")


async def main():
    # 1. A run.
    report("run", await Runner.run(agent, prompt))
    # 2. A streamed run: text deltas as they come (links already rewritten), then the same result.
    streamed = Runner.run_streamed(agent, prompt)
    deltas = ""
    async for event in streamed.stream_events():
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
            deltas += event.data.delta
    report("streamed run", streamed)
    print(f"  deltas equal the final output: {str(streamed.final_output).strip() in deltas}")


asyncio.run(main())
