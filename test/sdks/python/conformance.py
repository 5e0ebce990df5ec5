"""Conformance program: the Telnyx Voice Gather (Python) seed, run with the official `telnyx`
PyPI SDK against a live Switchboard, on real calls placed by virtual phones.

Env: SWITCHBOARD_URL (http://127.0.0.1:PORT), TELNYX_API_KEY, TELNYX_PUBLIC_KEY.
Prints one JSON line (the report) and exits 0 only if every operation and error check is ok.
"""

from __future__ import annotations

import base64
import json
import math
import os
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

import telnyx
from telnyx import Telnyx

SWITCHBOARD_URL = os.environ.get("SWITCHBOARD_URL", "").rstrip("/")
API_KEY = os.environ.get("TELNYX_API_KEY")
PUBLIC_KEY = os.environ.get("TELNYX_PUBLIC_KEY")
APP_NUMBER = "+15550142001"
CALLER = "+15550142999"
WAIT = 20.0  # seconds, the bound on every wait for a webhook or a phone event

operations: list[dict[str, Any]] = []
errors: list[dict[str, Any]] = []


def log(msg: str) -> None:
    print(f"[conformance] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# A tiny WAV (0.6 s of 440 Hz, 8 kHz mono 16-bit) served to gather_using_audio.


def tone_wav(seconds: float = 0.6, rate: int = 8000, freq: float = 440.0) -> bytes:
    n = int(seconds * rate)
    samples = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(n))
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(samples)) + samples


WAV = tone_wav()

# ---------------------------------------------------------------------------------------------
# Webhook receiver: every delivery is verified with the SDK's own client.webhooks.unwrap().


class Events:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.verified = 0
        self.failed: list[str] = []

    def add(self, item: dict[str, Any]) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def mark(self) -> int:
        with self.cond:
            return len(self.items)

    def wait(self, event_type: str, ccid: Optional[str], since: int = 0, timeout: float = WAIT,
             pred: Optional[Callable[[dict[str, Any]], bool]] = None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for item in self.items[since:]:
                    if item["event_type"] != event_type:
                        continue
                    if ccid is not None and item["payload"].get("call_control_id") != ccid:
                        continue
                    if pred is not None and not pred(item["payload"]):
                        continue
                    return item
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [i["event_type"] for i in self.items[since:] if ccid is None or i["payload"].get("call_control_id") == ccid]
                    raise TimeoutError(f"no {event_type} within {timeout}s (saw {seen})")
                self.cond.wait(left)

    def all(self, event_type: str, ccid: str, since: int = 0) -> list[dict[str, Any]]:
        with self.cond:
            return [i for i in self.items[since:] if i["event_type"] == event_type and i["payload"].get("call_control_id") == ccid]


events = Events()
verifier: Optional[Telnyx] = None  # set in main; the client whose webhooks.unwrap verifies


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/prompt.wav"):
            self.send_response(200)
            self.send_header("content-type", "audio/wav")
            self.send_header("content-length", str(len(WAV)))
            self.end_headers()
            self.wfile.write(WAV)
            return
        self.send_response(404)
        self.end_headers()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        headers = {k: v for k, v in self.headers.items()}
        assert verifier is not None
        try:
            event = verifier.webhooks.unwrap(raw, headers=headers)
        except Exception as e:  # the seed's handler: verification failed → 400
            events.failed.append(f"{type(e).__name__}: {e}")
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"Invalid signature")
            return
        events.verified += 1
        data = getattr(event, "data", None)
        event_type = getattr(data, "event_type", None)
        body = json.loads(raw)
        payload = (body.get("data") or {}).get("payload") or {}
        events.add({"event_type": event_type or (body.get("data") or {}).get("event_type"), "payload": payload,
                    "typed": type(event).__name__, "raw": raw, "headers": headers})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")


# ---------------------------------------------------------------------------------------------
# The Switchboard testing API (plain HTTP, not a Telnyx endpoint).


def sb(method: str, path: str, body: Optional[dict[str, Any]] = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{SWITCHBOARD_URL}{path}", data=data, method=method)
    req.add_header("authorization", f"Bearer {API_KEY}")
    if data is not None:
        req.add_header("content-type", "application/json")
    for attempt in range(5):  # the testing API shares the key's rate limit
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return json.loads(res.read().decode())["data"]
        except urllib.error.HTTPError as e:
            if e.code == 429 and attempt < 4:
                time.sleep(float(e.headers.get("retry-after-ms") or 500) / 1000)
                continue
            raise RuntimeError(f"{method} {path} → {e.code} {e.read().decode()}") from None


def phone_log(call_id: str) -> list[dict[str, Any]]:
    return sb("GET", f"/switchboard/v1/virtual_calls/{call_id}")["log"]


def wait_phone(call_id: str, pred: Callable[[list[dict[str, Any]]], bool], what: str, timeout: float = WAIT) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        entries = phone_log(call_id)
        if pred(entries):
            return entries
        if time.monotonic() > deadline:
            raise TimeoutError(f"phone never {what} (log events {[e['event'] for e in entries]})")
        time.sleep(0.25)


def count(entries: list[dict[str, Any]], event: str) -> int:
    return sum(1 for e in entries if e["event"] == event)


def press(call_id: str, digits: str) -> None:
    sb("POST", f"/switchboard/v1/virtual_calls/{call_id}/actions/send_dtmf", {"digits": digits, "duration_ms": 80, "gap_ms": 80})


# ---------------------------------------------------------------------------------------------


def record(name: str, fn: Callable[[], str]) -> None:
    started = time.monotonic()
    try:
        detail = fn()
        operations.append({"name": name, "ok": True, "detail": f"{detail} ({time.monotonic() - started:.1f}s)"})
        log(f"ok   {name}: {detail}")
    except Exception as e:
        detail = f"{type(e).__name__}: {e}"
        operations.append({"name": name, "ok": False, "detail": detail})
        log(f"FAIL {name}: {detail}\n{traceback.format_exc()}")


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def free_closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> int:
    global verifier
    if not SWITCHBOARD_URL or not API_KEY or not PUBLIC_KEY:
        print("SWITCHBOARD_URL, TELNYX_API_KEY and TELNYX_PUBLIC_KEY are required", file=sys.stderr)
        return 2

    # Setup, as in the seed (api_key from the environment), plus the base URL and public key.
    client = Telnyx(api_key=os.environ.get("TELNYX_API_KEY"), public_key=PUBLIC_KEY,
                    base_url=f"{SWITCHBOARD_URL}/v2", timeout=15.0, max_retries=2)
    verifier = client

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}"
    audio_url = f"{hook}/prompt.wav"

    app = client.call_control_applications.create(application_name="python-conformance", webhook_event_url=f"{hook}/webhooks")
    connection_id = app.data.id
    sb("POST", "/switchboard/v1/numbers", {"number": APP_NUMBER, "connection_id": connection_id})
    log(f"application {connection_id}, webhooks at {hook}")

    calls: list[tuple[str, str]] = []

    def new_call() -> tuple[str, str]:
        since = events.mark()
        placed = sb("POST", "/switchboard/v1/virtual_calls", {"from": CALLER, "to": APP_NUMBER})
        call_id, ccid = placed["id"], placed["call_control_id"]
        initiated = events.wait("call.initiated", ccid, since)
        check(initiated["payload"].get("direction") == "incoming", f"call.initiated direction {initiated['payload'].get('direction')}")
        answered = client.calls.actions.answer(call_control_id=ccid)
        check(answered.data is not None and answered.data.result == "ok", f"answer → {answered}")
        events.wait("call.answered", ccid, since)
        calls.append((call_id, ccid))
        return call_id, ccid

    phone, ccid = new_call()

    # --- gather (seed: minimum_digits=1, maximum_digits=4) -----------------------------------
    def op_gather() -> str:
        since = events.mark()
        response = client.calls.actions.gather(call_control_id=ccid, minimum_digits=1, maximum_digits=4)
        check(response.data.result == "ok", f"result {response.data.result!r}")
        press(phone, "1234")
        ended = events.wait("call.gather.ended", ccid, since)
        p = ended["payload"]
        check((p.get("status"), p.get("digits")) == ("valid", "1234"), f"gather.ended {p.get('status')} {p.get('digits')!r}")
        dtmf = [e["payload"].get("digit") for e in events.all("call.dtmf.received", ccid, since)]
        check(dtmf == list("1234"), f"dtmf.received {dtmf}")
        return f"result=ok; call.gather.ended valid '1234' after 4 call.dtmf.received; typed as {ended['typed']}"

    record("gather", op_gather)

    # --- gather_stop (seed: stop_gather(call_control_id)) ---------------------------------------
    def op_gather_stop() -> str:
        since = events.mark()
        client.calls.actions.gather(call_control_id=ccid, minimum_digits=1, maximum_digits=4)
        press(phone, "5")
        events.wait("call.dtmf.received", ccid, since)
        response = client.calls.actions.stop_gather(call_control_id=ccid)
        check(response.data.result == "ok", f"result {response.data.result!r}")
        p = events.wait("call.gather.ended", ccid, since)["payload"]
        check((p.get("status"), p.get("digits")) == ("cancelled", "5"), f"gather.ended {p.get('status')} {p.get('digits')!r}")
        return "result=ok; call.gather.ended cancelled with '5' pressed before the stop"

    record("gather_stop", op_gather_stop)

    # --- gather_using_speak (seed: payload="say this on call", voice="male") --------------------
    def op_gather_using_speak() -> str:
        since = events.mark()
        before = count(phone_log(phone), "prompt_started")
        response = client.calls.actions.gather_using_speak(call_control_id=ccid, payload="say this on call", voice="male")
        check(response.data.result == "ok", f"result {response.data.result!r}")
        entries = wait_phone(phone, lambda l: count(l, "prompt_started") > before, "heard the spoken prompt")
        prompt = [e for e in entries if e["event"] == "prompt_started"][-1]
        check(prompt.get("text") == "say this on call", f"prompt {prompt}")
        press(phone, "42#")
        p = events.wait("call.gather.ended", ccid, since)["payload"]
        check((p.get("status"), p.get("digits")) == ("valid", "42"), f"gather.ended {p.get('status')} {p.get('digits')!r}")
        return f"result=ok; phone heard '{prompt.get('text')}' ({prompt.get('kind')}); call.gather.ended valid '42'"

    record("gather_using_speak", op_gather_using_speak)

    # --- gather_using_audio (seed: call_control_id only; audio_url adapted to our WAV) ----------
    def op_gather_using_audio() -> str:
        since = events.mark()
        response = client.calls.actions.gather_using_audio(call_control_id=ccid, audio_url=audio_url)
        check(response.data.result == "ok", f"result {response.data.result!r}")
        started = events.wait("call.playback.started", ccid, since)
        check(started["payload"].get("media_url") == audio_url, f"playback.started media_url {started['payload'].get('media_url')}")
        press(phone, "7#")
        p = events.wait("call.gather.ended", ccid, since)["payload"]
        check((p.get("status"), p.get("digits")) == ("valid", "7"), f"gather.ended {p.get('status')} {p.get('digits')!r}")
        pe = events.wait("call.playback.ended", ccid, since)["payload"]
        return f"result=ok; call.playback.started/ended ({pe.get('status')}); call.gather.ended valid '7'"

    record("gather_using_audio", op_gather_using_audio)

    def op_gather_using_audio_literal() -> str:
        # Exactly the seed's call: no audio_url nor media_name.
        try:
            response = client.calls.actions.gather_using_audio(call_control_id=ccid)
        except telnyx.UnprocessableEntityError as e:
            body = e.body if isinstance(e.body, dict) else {}
            errs = body.get("errors") or []
            check(bool(errs) and "code" in errs[0], f"422 without a Telnyx errors[] body: {e.body}")
            return f"422 UnprocessableEntityError {errs[0].get('code')} '{errs[0].get('detail') or errs[0].get('title')}' (no prompt given)"
        since = events.mark()
        press(phone, "9#")
        p = events.wait("call.gather.ended", ccid, since)["payload"]
        check((p.get("status"), p.get("digits")) == ("valid", "9"), f"gather.ended {p.get('status')} {p.get('digits')!r}")
        return f"accepted (result={response.data.result}), gathered with no prompt: call.gather.ended valid '9'"

    record("gather_using_audio (seed-literal, no audio_url)", op_gather_using_audio_literal)

    # --- gather_using_ai (seed parameters are placeholders; a real JSON Schema as well) --------
    def op_gather_using_ai_literal() -> str:
        try:
            response = client.calls.actions.gather_using_ai(
                call_control_id=ccid,
                parameters={"properties": "bar", "required": "bar", "type": "bar"},
            )
        except telnyx.UnprocessableEntityError as e:
            body = e.body if isinstance(e.body, dict) else {}
            errs = body.get("errors") or []
            check(bool(errs) and "code" in errs[0], f"422 without a Telnyx errors[] body: {e.body}")
            ptr = (errs[0].get("source") or {}).get("pointer")
            return f"422 UnprocessableEntityError {errs[0].get('code')} at {ptr}: '{errs[0].get('detail')}' (the seed's 'bar' placeholders are not a JSON Schema)"
        client.calls.actions.stop_gather(call_control_id=ccid)
        return f"accepted: conversation_id={response.data.conversation_id}"

    record("gather_using_ai (seed-literal parameters)", op_gather_using_ai_literal)

    def op_gather_using_ai() -> str:
        since = events.mark()
        before = count(phone_log(phone), "prompt_started")
        schema = {
            "type": "object",
            "properties": {"account_number": {"type": "integer", "description": "your account number"}},
            "required": ["account_number"],
        }
        response = client.calls.actions.gather_using_ai(call_control_id=ccid, parameters=schema)
        conversation_id = response.data.conversation_id
        check(bool(conversation_id), f"no conversation_id in {response.data}")
        wait_phone(phone, lambda l: count(l, "prompt_started") > before, "heard the AI question")
        press(phone, "4271#")
        p = events.wait("call.ai_gather.ended", ccid, since, timeout=30)["payload"]
        check(p.get("status") == "valid" and (p.get("result") or {}).get("account_number") == 4271, f"ai_gather.ended {p.get('status')} {p.get('result')}")
        events.wait("call.conversation.ended", ccid, since)
        return f"conversation_id={conversation_id}; call.ai_gather.ended valid {p.get('result')}; call.conversation.ended"

    record("gather_using_ai", op_gather_using_ai)

    # --- AI assistant: start / add_messages / stop, exactly as the seed calls them --------------
    phone2, ccid2 = new_call()

    def op_ai_assistant_start() -> str:
        response = client.calls.actions.start_ai_assistant(call_control_id=ccid2)
        check(bool(response.data.conversation_id), f"no conversation_id in {response.data}")
        check(response.data.result == "ok", f"result {response.data.result!r}")
        return f"result=ok conversation_id={response.data.conversation_id}"

    record("ai_assistant_start", op_ai_assistant_start)

    def op_ai_assistant_add_messages() -> str:
        response = client.calls.actions.add_ai_assistant_messages(call_control_id=ccid2)
        check(response.data.result == "ok", f"result {response.data.result!r}")
        return "result=ok (no messages, as in the seed)"

    record("ai_assistant_add_messages", op_ai_assistant_add_messages)

    def op_ai_assistant_stop() -> str:
        since = events.mark()
        response = client.calls.actions.stop_ai_assistant(call_control_id=ccid2)
        check(response.data.result == "ok", f"result {response.data.result!r}")
        p = events.wait("call.conversation.ended", ccid2, since)["payload"]
        return f"result=ok; call.conversation.ended reason={p.get('reason')}"

    record("ai_assistant_stop", op_ai_assistant_stop)

    # The full assistant flow, for the seed's second expected webhook (insights) and a real reply.
    phone3, ccid3 = new_call()

    def op_ai_assistant_flow() -> str:
        since = events.mark()
        before = count(phone_log(phone3), "prompt_started")
        started = client.calls.actions.start_ai_assistant(
            call_control_id=ccid3,
            greeting="Hi, how can I help?",
            assistant={"id": "assistant-python", "instructions": "You are a bank assistant.",
                       "insight_settings": {"insight_group_id": "calls"}},  # type: ignore[typeddict-unknown-key]
        )
        check(bool(started.data.conversation_id), "no conversation_id")
        wait_phone(phone3, lambda l: count(l, "prompt_started") > before, "heard the greeting")
        heard = count(phone_log(phone3), "prompt_started")
        added = client.calls.actions.add_ai_assistant_messages(
            call_control_id=ccid3, messages=[{"role": "user", "content": "What is my balance?"}], trigger_response=True)
        check(added.data.result == "ok", "add_messages result")
        wait_phone(phone3, lambda l: count(l, "prompt_started") > heard, "heard the reply to the added message")
        client.calls.actions.stop_ai_assistant(call_control_id=ccid3)
        ended = events.wait("call.conversation.ended", ccid3, since)["payload"]
        insights = events.wait("call.conversation_insights.generated", ccid3, since, timeout=30)["payload"]
        return f"greeting heard, reply heard; conversation.ended reason={ended.get('reason')}; insights {insights.get('results')}"

    record("ai_assistant_start+add_messages+stop (greeting, messages, insights)", op_ai_assistant_flow)

    # --- Webhook verification ------------------------------------------------------------------
    def op_unwrap() -> str:
        check(events.verified > 0, "no webhook received")
        check(not events.failed, f"{len(events.failed)} deliveries failed verification: {events.failed[:3]}")
        sample = events.items[-1]
        tampered = sample["raw"].replace('"event_type"', '"event_type" ', 1)
        try:
            client.webhooks.unwrap(tampered, headers=sample["headers"])
            raise AssertionError("a tampered body verified")
        except ValueError:
            pass
        stale = dict(sample["headers"])
        for k in list(stale):
            if k.lower() == "telnyx-timestamp":
                stale[k] = str(int(time.time()) - 3600)
        try:
            client.webhooks.unwrap(sample["raw"], headers=stale)
            raise AssertionError("a stale timestamp verified")
        except ValueError:
            pass
        return f"{events.verified} deliveries verified by client.webhooks.unwrap (Ed25519), 0 failed; tampered body and stale timestamp rejected"

    # hang up (and let the hangup webhooks arrive) before counting
    for call_id, c in calls:
        try:
            since = events.mark()
            client.calls.actions.hangup(call_control_id=c)
            events.wait("call.hangup", c, since, timeout=10)
        except Exception as e:
            log(f"hangup {c}: {e}")
    record("webhooks.unwrap", op_unwrap)

    # --- Error classes named by the seed ---------------------------------------------------------
    def expect(cls_name: str, fn: Callable[[], Any], cls: type, status: Optional[int] = None) -> None:
        try:
            fn()
            errors.append({"class": cls_name, "ok": False, "detail": "no error raised"})
        except cls as e:  # type: ignore[misc]
            ok = status is None or getattr(e, "status_code", None) == status
            detail = f"{type(e).__name__}" + (f" {e.status_code}: {e.message}" if isinstance(e, telnyx.APIStatusError) else f": {e}")
            errors.append({"class": cls_name, "ok": ok, "detail": detail[:300]})
        except Exception as e:
            errors.append({"class": cls_name, "ok": False, "detail": f"got {type(e).__name__}: {str(e)[:300]}"})
        log(f"{'ok  ' if errors[-1]['ok'] else 'FAIL'} error {cls_name}: {errors[-1]['detail']}")

    closed = Telnyx(api_key=API_KEY, base_url=f"http://127.0.0.1:{free_closed_port()}/v2", max_retries=0, timeout=5.0)
    expect("APIConnectionError", lambda: closed.calls.actions.gather(call_control_id=ccid, minimum_digits=1, maximum_digits=4), telnyx.APIConnectionError)

    bad_key = Telnyx(api_key="KEYnot-a-real-key", base_url=f"{SWITCHBOARD_URL}/v2", max_retries=0, timeout=10.0)
    expect("AuthenticationError", lambda: bad_key.call_control_applications.list(), telnyx.AuthenticationError, 401)

    expect("NotFoundError", lambda: client.recordings.retrieve("unknown"), telnyx.NotFoundError, 404)

    phone4, ccid4 = new_call()
    expect("UnprocessableEntityError",
           lambda: client.calls.actions.gather(call_control_id=ccid4, minimum_digits=1, maximum_digits=999),
           telnyx.UnprocessableEntityError, 422)
    # The seed's generic branch: `except telnyx.APIStatusError as e: e.status_code, e.message`.
    expect("APIStatusError", lambda: client.calls.actions.gather(call_control_id=ccid4, minimum_digits=0, maximum_digits=4),
           telnyx.APIStatusError, 422)
    try:
        client.calls.actions.hangup(call_control_id=ccid4)
    except Exception as e:
        log(f"hangup {ccid4}: {e}")

    limited = Telnyx(api_key=API_KEY, base_url=f"{SWITCHBOARD_URL}/v2", max_retries=0, timeout=10.0)

    def burst() -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: _try(limited.call_control_applications.list), range(60)))
        for r in results:
            if isinstance(r, telnyx.RateLimitError):
                raise r
            if isinstance(r, Exception):
                raise r

    expect("RateLimitError", burst, telnyx.RateLimitError, 429)
    if errors[-1]["ok"]:
        errors[-1]["detail"] += f"; retry-after={_last_429_retry_after()}"
    time.sleep(1.5)  # let the bucket refill

    server.shutdown()
    return 0


_rate_limited: list[Any] = []


def _try(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as e:
        if isinstance(e, telnyx.RateLimitError):
            _rate_limited.append(e)
        return e


def _last_429_retry_after() -> str:
    if not _rate_limited:
        return "?"
    h = _rate_limited[-1].response.headers
    return f"{h.get('retry-after')}s / {h.get('retry-after-ms')}ms"


if __name__ == "__main__":
    rc = 1
    fatal = None
    # A hard bound on the whole run, whatever hangs.
    watchdog = threading.Timer(240, lambda: (print(json.dumps({"language": "python", "fatal": "watchdog: run exceeded 240s", "operations": operations, "errors": errors})), sys.stdout.flush(), os._exit(3)))
    watchdog.daemon = True
    watchdog.start()
    try:
        rc = main()
    except Exception as e:
        fatal = f"{type(e).__name__}: {e}"
        log(traceback.format_exc())
    report: dict[str, Any] = {"language": "python", "sdk_version": telnyx.__version__, "operations": operations, "errors": errors}
    if fatal:
        report["fatal"] = fatal
    all_ok = not fatal and rc == 0 and bool(operations) and all(o["ok"] for o in operations) and bool(errors) and all(e["ok"] for e in errors)
    print(json.dumps(report), flush=True)
    sys.exit(0 if all_ok else 1)
