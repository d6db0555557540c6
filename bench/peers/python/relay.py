"""Baseline relay for the VoiceChat benchmark, on the original server's stack: asyncio and the
`websockets` library (Debian's python3-websockets 10.4) on both sides, JSON and base64 from the
standard library. It implements the audio path of client protocol v1 (docs/protocol.md):
start_session -> session_started, binary PCM16 both ways, end_session -> session_ended + close 1000,
ping -> pong, and the errors that path needs. Tools, transcripts, resumption and authentication are
out of scope for the comparison.

    /usr/bin/python3 relay.py --port 8082 --gemini-base-url http://127.0.0.1:9000
"""

import argparse
import asyncio
import base64
import json
import signal
import uuid

import websockets

GEMINI_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
MAX_FRAME_BYTES = 64 * 1024
SAMPLE_RATES = {8000, 16000, 24000, 48000}


class Fatal(Exception):
    def __init__(self, code, message, close_code):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code


async def send_json(client, message):
    await client.send(json.dumps(message, separators=(",", ":")))


async def send_error(client, code, message, fatal=False):
    await send_json(client, {"type": "error", "code": code, "message": message, "fatal": fatal})


async def open_upstream(config):
    url = config.gemini_url + "?key=" + config.api_key
    upstream = await websockets.connect(url, compression=None, max_size=None, ping_interval=None)
    setup = {"setup": {"model": "models/" + config.model, "generationConfig": {"responseModalities": ["AUDIO"]}}}
    await upstream.send(json.dumps(setup, separators=(",", ":")))
    reply = json.loads(await asyncio.wait_for(upstream.recv(), timeout=15))
    if "setupComplete" not in reply:
        await upstream.close()
        raise Fatal("upstream_unavailable", "The model service refused the session.", 4005)
    return upstream


async def pump_upstream(upstream, client):
    """Model -> app: every inline audio part becomes one binary frame."""
    try:
        async for raw in upstream:
            message = json.loads(raw)
            content = message.get("serverContent")
            if not content:
                continue
            turn = content.get("modelTurn")
            if turn:
                for part in turn.get("parts", ()):
                    inline = part.get("inlineData")
                    if inline and inline.get("data"):
                        await client.send(base64.b64decode(inline["data"]))
            if content.get("interrupted"):
                await send_json(client, {"type": "interrupted"})
            if content.get("turnComplete"):
                await send_json(client, {"type": "turn_complete"})
    except websockets.ConnectionClosed:
        pass
    # The model side ended while the app was still connected.
    if client.open:
        await send_error(client, "upstream_unavailable", "The model service closed the conversation.", fatal=True)
        await client.close(4005)


async def handle(client, config):
    if client.path not in ("/", "/voice"):
        await client.close(1008)
        return
    upstream = None
    pump = None
    mime_type = "audio/pcm;rate=16000"
    try:
        async for frame in client:
            if isinstance(frame, bytes):
                if upstream is None:
                    await send_error(client, "not_started", "Send start_session first.")
                elif len(frame) % 2:
                    await send_error(client, "invalid_audio", "An audio frame must hold whole PCM16 samples.")
                else:
                    data = base64.b64encode(frame).decode("ascii")
                    await upstream.send('{"realtimeInput":{"audio":{"data":"%s","mimeType":"%s"}}}' % (data, mime_type))
                continue
            try:
                message = json.loads(frame)
            except ValueError:
                await send_error(client, "invalid_json", "The text frame is not valid JSON.")
                continue
            if not isinstance(message, dict):
                await send_error(client, "invalid_json", "The text frame is not a JSON object.")
                continue
            kind = message.get("type")
            if kind == "start_session":
                if upstream is not None:
                    await send_error(client, "already_started", "The session has already started.")
                    continue
                user_id = message.get("user_id")
                if not isinstance(user_id, str) or not 1 <= len(user_id) <= 128:
                    await send_error(client, "invalid_message", "user_id is required.")
                    continue
                rate = message.get("input_sample_rate", 16000)
                if rate not in SAMPLE_RATES:
                    await send_error(client, "unsupported_sample_rate", "input_sample_rate must be 8000, 16000, 24000 or 48000.")
                    continue
                mime_type = "audio/pcm;rate=%d" % rate
                try:
                    upstream = await open_upstream(config)
                except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
                    raise Fatal("upstream_unavailable", "The model service cannot be reached.", 4005)
                pump = asyncio.create_task(pump_upstream(upstream, client))
                await send_json(client, {
                    "type": "session_started",
                    "session_id": message.get("session_id") or uuid.uuid4().hex,
                    "resume_token": "",
                    "input_sample_rate": rate,
                    "output_sample_rate": 24000,
                    "resumed": False,
                })
            elif kind == "end_session":
                if upstream is None:
                    await send_error(client, "not_started", "Send start_session first.")
                    continue
                pump.cancel()
                await upstream.close()
                await send_json(client, {"type": "session_ended", "reason": "client_ended"})
                await client.close(1000)
                return
            elif kind == "ping":
                await send_json(client, {"type": "pong", "id": message["id"]} if "id" in message else {"type": "pong"})
            else:
                await send_error(client, "unknown_type", "Unknown message type.")
    except Fatal as fatal:
        await send_error(client, fatal.code, fatal.message, fatal=True)
        await client.close(fatal.close_code)
    except websockets.ConnectionClosed:
        pass
    finally:
        if pump is not None:
            pump.cancel()
        if upstream is not None:
            await upstream.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--gemini-base-url", default="http://127.0.0.1:9000")
    parser.add_argument("--api-key", default="bench")
    parser.add_argument("--model", default="gemini-3.8-live")  # VoiceChat's default model, so every relay asks for the same one
    config = parser.parse_args()
    base = config.gemini_base_url.rstrip("/")
    config.gemini_url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + GEMINI_PATH

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with websockets.serve(lambda ws: handle(ws, config), config.host, config.port,
                                max_size=MAX_FRAME_BYTES, compression=None, backlog=4096):
        print("python peer listening on ws://%s:%d/voice, model service %s" % (config.host, config.port, base), flush=True)
        try:
            await stop
        except asyncio.CancelledError:
            pass


if __name__ == "__main__":
    asyncio.run(main())
