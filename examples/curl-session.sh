#!/usr/bin/env bash
# unsandbox with curl: a model call, the files of the answer, a download, and the health check.
#
#   npm start                            # in another terminal
#   bash examples/curl-session.sh
#
# Settings: UNSANDBOX_URL (default http://127.0.0.1:8787), UNSANDBOX_API_KEY (default the local key).
# Needs curl and jq.
set -euo pipefail
URL="${UNSANDBOX_URL:-http://127.0.0.1:8787}"
KEY="${UNSANDBOX_API_KEY:-usk_local_0123456789abcdef}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== health"
curl -sS --fail-with-body "$URL/healthz" | jq -c '{ok}'

echo "== POST /v1/responses"
curl -sS --fail-with-body "$URL/v1/responses" \
  -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" \
  -d '{"model":"gpt-5","input":"Write the squares of 1 to 10 to squares.csv and give me a link to it.","tools":[{"type":"code_interpreter","container":{"type":"auto"}}]}' \
  > "$WORK/response.json"
ID="$(jq -r .id "$WORK/response.json")"
echo "response $ID"
jq -r '[.output[] | select(.type == "message") | .content[] | select(.type == "output_text") | .text] | last' "$WORK/response.json"

echo "== GET /v1/responses/$ID/files"
curl -sS --fail-with-body "$URL/v1/responses/$ID/files" -H "Authorization: Bearer $KEY" > "$WORK/files.json"
jq -r '.data[] | "\(.filename) \(.state) \(.bytes) \(.url)"' "$WORK/files.json"

FILE_URL="$(jq -r '[.data[] | select(.state == "stored")][0].url // empty' "$WORK/files.json")"
if [ -z "$FILE_URL" ]; then
  echo "no stored file yet" >&2
  exit 1
fi
echo "== download (no key: the signed URL is the credential)"
curl -sS --fail-with-body -o "$WORK/file" -w "HTTP %{http_code}, %{size_download} bytes, %{content_type}\n" "$FILE_URL"
echo "== first 10 bytes again, with Range"
curl -sS --fail-with-body -o /dev/null -H "Range: bytes=0-9" -w "HTTP %{http_code}, %{size_download} bytes\n" "$FILE_URL"
