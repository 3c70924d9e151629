"""The server's connection deadlines, against a real uvicorn on a loopback port."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from api.server import with_header_timeout


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(params=["h11", "httptools"])
def server(request):
    if request.param == "httptools":
        pytest.importorskip("httptools")
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol as base
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(hello, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                            http=with_header_timeout(base, 0.5))
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    running.should_exit = True
    thread.join(timeout=10)


def test_a_trickled_request_head_is_cut_off_at_the_header_timeout(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 4:
            try:
                slow.sendall(b"X")  # one byte of a header line every 0.1 s: never a complete head
                slow.settimeout(0.1)
                if slow.recv(100) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        assert closed and time.monotonic() - started < 2, "the connection was closed at the deadline"


def test_a_prompt_request_is_answered_and_keep_alive_still_works(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as client:
        for _ in range(2):
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(client).startswith(b"HTTP/1.1 200")


def read_response(client: socket.socket) -> bytes:
    """One whole response (head and ``Content-Length`` body), however TCP splits it: a second
    request on the connection must not read the first one's body."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += client.recv(1000)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += client.recv(1000)
    return head
