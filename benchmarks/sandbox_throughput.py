"""How many sendMessage requests per second the sandbox serves, next to a bare aiohttp baseline.

    .venv/bin/python benchmarks/sandbox_throughput.py [--seconds 5] [--concurrency 64]
        [--latency-ms 50 150]

Each server runs in its own process and the load generator in another, so on a 2-core machine
the server under test has a core to itself. The sandbox runs as tests use it: strict validation
on, HTML parsed, every call recorded, messages stored; flood limits off (they would turn most
requests into 429s, which is not what is measured). With ``--latency-ms`` it also runs with that
injected latency per request, where throughput is bounded by concurrency / latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

USERS = 1000


def _serve_sandbox(conn: Connection, latency_ms: float) -> None:
    from sandbox import BotApiServer, Latency, Limits, SandboxConfig

    async def main() -> None:
        config = SandboxConfig(
            limits=Limits.off(), latency=Latency.fixed(latency_ms) if latency_ms else None
        )
        server = BotApiServer(config)
        await server.start()
        ids = [server.world.add_user(f"Warga {i}", started=True).id for i in range(USERS)]
        conn.send((f"{server.api_url}{server.token}/sendMessage", ids))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        conn.send(len(server.calls))
        await server.stop()

    asyncio.run(main())


def _serve_baseline(conn: Connection, latency_ms: float) -> None:
    from aiohttp import web

    body = json.dumps({"ok": True, "result": {"message_id": 1}}).encode()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        conn.send((f"http://127.0.0.1:{port}/bot1:x/sendMessage", list(range(1, USERS + 1))))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        conn.send(0)
        await runner.cleanup()

    asyncio.run(main())


def _load(url: str, chat_ids: list[int], seconds: float, concurrency: int, out: Connection) -> None:
    """POST form-encoded sendMessage requests, as python-telegram-bot does, for ``seconds``.

    A minimal keep-alive HTTP/1.1 client on raw streams: an aiohttp client tops out near the
    bare server's own rate on one core, and the load generator must not be what is measured.
    """
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    requests = []
    for i, cid in enumerate(chat_ids):
        body = urlencode(
            {
                "chat_id": str(cid),
                "text": f"<b>Pengingat</b>: TPS buka 07.00 WIB ({i})",
                "parse_mode": "HTML",
            }
        ).encode()
        head = (
            f"POST {parsed.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests.append(head + body)

    async def main() -> tuple[int, int, float]:
        ok = failed = 0
        measuring = False

        async def worker(k: int, deadline: float) -> None:
            nonlocal ok, failed
            reader, writer = await asyncio.open_connection(host, port)
            i = k
            try:
                while time.perf_counter() < deadline:
                    writer.write(requests[i % len(requests)])
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    await reader.readexactly(length)
                    if measuring:
                        if head.startswith(b"HTTP/1.1 200"):
                            ok += 1
                        else:
                            failed += 1
                    i += concurrency
            finally:
                writer.close()

        await asyncio.gather(*(worker(k, time.perf_counter() + 0.5) for k in range(concurrency)))
        measuring = True
        start = time.perf_counter()
        await asyncio.gather(*(worker(k, start + seconds) for k in range(concurrency)))
        return ok, failed, time.perf_counter() - start

    out.send(asyncio.run(main()))


def run(target: str, seconds: float, concurrency: int, latency_ms: float = 0.0) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    server_end, here = ctx.Pipe()
    serve = _serve_sandbox if target == "sandbox" else _serve_baseline
    server = ctx.Process(target=serve, args=(server_end, latency_ms))
    server.start()
    url, ids = here.recv()
    result_end, results = ctx.Pipe()
    client = ctx.Process(target=_load, args=(url, ids, seconds, concurrency, result_end))
    client.start()
    ok, failed, elapsed = results.recv()
    client.join()
    here.send("stop")
    recorded = here.recv()
    server.join()
    return {"ok": ok, "failed": failed, "rps": ok / elapsed, "recorded": recorded}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="baseline and sandbox alternate")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, nargs="*", default=[])
    args = parser.parse_args(argv)

    # Rounds alternate so that a neighbour's burst of CPU use hits both sides alike; the median
    # and the best round are reported (the best is the least disturbed).
    print(
        f"sendMessage, {args.concurrency} concurrent keep-alive connections, "
        f"{args.rounds} rounds of {args.seconds:g} s"
    )
    targets = [("bare aiohttp (constant answer)", "baseline", args.concurrency, 0.0)]
    targets.append(("sandbox (validation on, limits off)", "sandbox", args.concurrency, 0.0))
    for ms in args.latency_ms:
        conns = max(args.concurrency, 256)
        targets.append((f"sandbox, {ms:g} ms latency, {conns} conns", "sandbox", conns, ms))
    rates: dict[str, list[float]] = {name: [] for name, *_ in targets}
    failed: dict[str, float] = dict.fromkeys(rates, 0.0)
    for _ in range(args.rounds):
        for name, kind, conns, ms in targets:
            result = run(kind, args.seconds, conns, ms)
            rates[name].append(result["rps"])
            failed[name] += result["failed"]
    baseline = statistics.median(rates[targets[0][0]])
    for name, values in rates.items():
        median = statistics.median(values)
        print(
            f"  {name:<42} median {median:>7,.0f} req/s, best {max(values):>7,.0f}"
            f"  ({median / baseline:>4.0%} of baseline, {failed[name]:.0f} failed)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
