"""Verdicts and the report of bench/run.sh (standard library only; run with /usr/bin/python3).

    report.py verdict RESULT.json DIRECT.json LIMIT_MS   -> "carried" or why not
    report.py line RESULT.json DIRECT.json               -> a one-line summary of a step
    report.py floor-verdict FLOOR.json LIMIT_MS          -> "carried" or why not (the C floor relay)
    report.py floor-line FLOOR.json                      -> a one-line summary of a floor step
    report.py report OUT_DIR COMMAND LIMIT_MS "RELAYS" [N@MS] [echo|emulator] -> OUT_DIR/results.md, results.json, chart.png
    report.py resume-line RESUME.json                    -> a one-line summary of a resume run
    report.py resume-report OUT_DIR COMMAND [echo|emulator] -> OUT_DIR/results.md, results.json (bench/run.sh --resume-only)
"""

import glob
import json
import os
import platform
import subprocess
import sys
import time

REAL_TIME_MIN = 0.98  # a step must stream at least 98 % of real time (no sender fell behind)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"missing": True}


def p99(result):
    return (result.get("round_trip_ms") or {}).get("p99")


def added_p99(result, direct):
    if result.get("missing") or direct.get("missing") or p99(result) is None or p99(direct) is None:
        return None
    return round(p99(result) - p99(direct), 3)


def verdict(result, direct, limit_ms):
    if result.get("missing"):
        return "no result (the load generator did not finish)"
    reasons = []
    n = result["sessions_requested"]
    if result["sessions_established"] < n:
        reasons.append("%d of %d sessions failed to start" % (result["sessions_failed"], n))
    if result["sessions_dropped"]:
        reasons.append("%d sessions dropped" % result["sessions_dropped"])
    if result["frames_lost"]:
        reasons.append("%d frames lost" % result["frames_lost"])
    if result["sessions_ended_cleanly"] < n:
        reasons.append("%d sessions did not end cleanly" % (n - result["sessions_ended_cleanly"]))
    if result["real_time_factor"] < REAL_TIME_MIN:
        reasons.append("streamed at %.1f %% of real time" % (100 * result["real_time_factor"]))
    if result is direct:
        # The harness itself: beyond this, its own queueing would be counted as the relays' latency.
        if p99(result) is not None and p99(result) >= limit_ms:
            reasons.append("the harness's own p99 round trip is %.1f ms" % p99(result))
    else:
        added = added_p99(result, direct)
        if added is not None and added >= limit_ms:
            reasons.append("p99 added latency %.1f ms" % added)
    return "carried" if not reasons else "not carried: " + "; ".join(reasons)


def line(result, direct):
    if result.get("missing"):
        return "no result"
    rtt = result["round_trip_ms"]
    server = result.get("server") or {}
    added = added_p99(result, direct)
    return "%d/%d up, %d dropped, %d lost, rtt p50 %.2f p99 %.2f ms%s, cpu %.0f%% of a core%s, %.1f KiB/session, generator cpu %.0f%%" % (
        result["sessions_established"], result["sessions_requested"], result["sessions_dropped"], result["frames_lost"],
        rtt["p50"], rtt["p99"], "" if result is direct or added is None else ", added p99 %.2f ms" % added,
        server.get("cpu_percent_of_one_core", 0),
        "" if server.get("core", -1) < 0 else ", core %d %.0f%% busy (%.0f%% softirq)" % (
            server["core"], server.get("core_busy_percent", 0), server.get("core_soft_irq_percent", 0)),
        server.get("rss_per_session_ki_b", 0),
        result.get("load_gen_cpu_percent_of_one_core", 0))


def core_busy(server):
    """The pinned core's busy time and, in brackets, its softirq part (% of its time); blank without it."""
    if server.get("core", -1) < 0:
        return ""
    return "%.1f (%.1f)" % (server.get("core_busy_percent", 0), server.get("core_soft_irq_percent", 0))


def floor_verdict(result, limit_ms):
    """The floor relay has its own C client and echo, whose share of the round trip is negligible:
    its whole p99 round trip counts as added latency."""
    if result.get("missing"):
        return "no result (the floor client did not finish)"
    reasons = []
    if result["frames_lost"]:
        reasons.append("%d frames lost" % result["frames_lost"])
    if result["real_time_factor"] < REAL_TIME_MIN:
        reasons.append("streamed at %.1f %% of real time" % (100 * result["real_time_factor"]))
    if p99(result) is not None and p99(result) >= limit_ms:
        reasons.append("p99 round trip %.1f ms" % p99(result))
    return "carried" if not reasons else "not carried: " + "; ".join(reasons)


def floor_line(result):
    if result.get("missing"):
        return "no result"
    server = result.get("server") or {}
    return "%d sessions, %d lost, rtt p50 %.2f p99 %.2f ms, cpu %.0f%% of a core, %.4f CPU s/session-min" % (
        result["sessions_requested"], result["frames_lost"], result["round_trip_ms"]["p50"], result["round_trip_ms"]["p99"],
        server.get("cpu_percent_of_one_core", 0), server.get("cpu_seconds_per_session_minute", 0))


def floor_rows(out, limit_ms):
    rows = []
    for path in glob.glob(os.path.join(out, "raw", "floor", "floor-*.json")):
        result = load(path)
        n = int(os.path.basename(path)[len("floor-"):-5])
        rows.append({"sessions": n, "verdict": floor_verdict(result, limit_ms), "result": result})
    return sorted(rows, key=lambda r: r["sessions"])


def run(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine(bench_dir):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for row in f:
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo") as f:
        for row in f:
            if row.startswith("MemTotal"):
                memory = "%.1f GiB" % (int(row.split()[1]) / 1048576)
                break
    os_name = "unknown"
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            for row in f:
                if row.startswith("PRETTY_NAME="):
                    os_name = row.split("=", 1)[1].strip().strip('"')

    def package_version(name):
        path = os.path.join(bench_dir, "peers", "node", "node_modules", name, "package.json")
        try:
            with open(path) as f:
                return json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            return "unknown"

    try:
        import websockets
        websockets_version = websockets.__version__
    except ImportError:
        websockets_version = "not installed"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory": memory,
        "os": os_name,
        "kernel": platform.release(),
        "dotnet_sdk": run(["dotnet", "--version"]),
        "dotnet_runtime": run(["dotnet", "--list-runtimes"]).splitlines()[-1] if run(["dotnet", "--list-runtimes"]) else "unknown",
        "node": run(["node", "--version"]),
        "google_genai": package_version("@google/genai"),
        "ws": package_version("ws"),
        "python": platform.python_version(),
        "python_websockets": websockets_version,
    }


def pair_cpu(rows, relay, other):
    """CPU seconds per session-minute of two relays at the largest step both carried."""
    def cpu(target, n):
        for r in rows:
            if r["target"] == target and r["sessions"] == n and r["verdict"] == "carried":
                return (r["result"].get("server") or {}).get("cpu_seconds_per_session_minute")
        return None
    both = [r["sessions"] for r in rows if r["target"] == relay and cpu(relay, r["sessions"]) and cpu(other, r["sessions"])]
    if not both:
        return None
    n = max(both)
    return {"sessions": n, relay: cpu(relay, n), other: cpu(other, n)}


def memory_rows(out, targets, limit_ms):
    """The --memory run: one result per target in raw/memory/TARGET-N.json."""
    raw = {}
    for path in glob.glob(os.path.join(out, "raw", "memory", "*.json")):
        target, n = os.path.basename(path)[:-5].rsplit("-", 1)
        raw[target] = (int(n), load(path))
    direct = raw.get("direct", (0, {"missing": True}))[1]
    rows = []
    for target in targets:
        if target not in raw:
            continue
        n, result = raw[target]
        rows.append({
            "target": target,
            "sessions": n,
            "verdict": verdict(result, result if target == "direct" else direct, limit_ms),
            "added_p99_ms": None if target == "direct" else added_p99(result, direct),
            "result": result,
        })
    return rows


MODEL_SIDES = {
    "echo": "`bench/native/gemini_echo.c`, a Gemini Live echo in C (the Live API's WebSocket upgrade, `setup` "
            "answered with `setupComplete`, each audio chunk answered at once with the same data; one thread, "
            "epoll), so that the harness keeps real time well past what a relay carries on one core",
    "emulator": "the Gemini Live emulator in its benchmark echo mode (`voicechat-emulator --scenario echo`)",
}


def report(out, command, limit_ms, relays, memory="", model="echo"):
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    raw = {}
    for path in glob.glob(os.path.join(out, "raw", "*.json")):
        target, n = os.path.basename(path)[:-5].rsplit("-", 1)
        raw[(target, int(n))] = load(path)
    steps = sorted({n for (_, n) in raw})
    targets = ["direct"] + [r for r in relays.split() if r != "direct"]

    rows = []
    for n in steps:
        direct = raw.get(("direct", n))
        for target in targets:
            result = raw.get((target, n))
            if result is None:
                continue
            rows.append({
                "target": target,
                "sessions": n,
                "verdict": verdict(result, direct or {"missing": True}, limit_ms) if target != "direct" else verdict(result, result, limit_ms),
                "added_p99_ms": None if target == "direct" else added_p99(result, direct or {"missing": True}),
                "result": result,
            })

    best = {}
    for target in targets:
        carried = [r["sessions"] for r in rows if r["target"] == target and r["verdict"] == "carried"]
        best[target] = max(carried) if carried else 0
    harness_limit = best.get("direct", 0)

    info = machine(bench_dir)
    summary = {"max_sessions_carried": best, "harness_limit_sessions": harness_limit}
    vc = best.get("voicechat", 0)
    for other in ("node", "python"):
        if other in best and best[other]:
            summary["voicechat_vs_%s" % other] = round(vc / best[other], 2)

    # CPU per session at the largest step every relay carried: a comparison that does not depend on
    # the harness's limit (sessions per core follow from it while the relay keeps its latency).
    cpu_rows = {}
    common = [n for n in steps if all(any(r["target"] == t and r["sessions"] == n and r["verdict"] == "carried" for r in rows)
                                      for t in targets if t != "direct")]
    if common:
        n = max(common)
        for r in rows:
            if r["sessions"] == n and r["target"] != "direct":
                cpu_rows[r["target"]] = (r["result"].get("server") or {}).get("cpu_seconds_per_session_minute", 0)
        summary["cpu_seconds_per_session_minute_at"] = {"sessions": n, "by_relay": cpu_rows}

    for other in ("node", "python"):
        pair = pair_cpu(rows, "voicechat", other)
        if pair:
            summary["cpu_voicechat_vs_%s" % other] = pair

    # --telemetry both: what OpenTelemetry on costs the VoiceChat relay per session.
    pair = pair_cpu(rows, "voicechat-otel", "voicechat")
    if pair and pair["voicechat"]:
        pair["overhead_percent"] = round(100 * (pair["voicechat-otel"] / pair["voicechat"] - 1), 1)
        summary["cpu_telemetry_on_vs_off"] = pair

    # Each relay's CPU per session as a multiple of the kernel floor's at the same step.
    floors = floor_rows(out, limit_ms)
    floor_cpu = {r["sessions"]: (r["result"].get("server") or {}).get("cpu_seconds_per_session_minute")
                 for r in floors if r["verdict"] == "carried"}
    times_floor = {}  # relay -> step -> {"times_floor", "carried"}: also for steps a relay did not carry
    for r in rows:
        cpu = (r["result"].get("server") or {}).get("cpu_seconds_per_session_minute")
        if r["target"] != "direct" and cpu and floor_cpu.get(r["sessions"]):
            times_floor.setdefault(r["target"], {})[str(r["sessions"])] = {
                "times_floor": round(cpu / floor_cpu[r["sessions"]], 2), "carried": r["verdict"] == "carried"}
    if floors:
        carried = [r["sessions"] for r in floors if r["verdict"] == "carried"]
        summary["floor_max_sessions_carried"] = max(carried) if carried else 0
        summary["cpu_times_floor"] = times_floor

    mem_rows = memory_rows(out, targets, limit_ms) if memory else []
    document = {"machine": info, "command": command, "added_latency_limit_ms": limit_ms, "summary": summary,
                "steps": [{k: v for k, v in r.items()} for r in rows],
                "floor": floors,
                "memory": {"sessions_at_frame_ms": memory, "runs": mem_rows}}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")

    chart_made = chart(out, rows, [t for t in targets if t != "direct"], limit_ms, floors)

    md = []
    md.append("# VoiceChat relay benchmark results\n")
    md.append("Command: `%s` (from the repository root).\n" % command)
    md.append("Each relay runs pinned to core 0 (`taskset -c 0`); the load generator and the model side share core 1. "
              "The model side is %s. Microphone frames are 16 kHz PCM16, streamed in real time by every "
              "session; the model side echoes each frame at once and the relay forwards it back. After the ramp every "
              "session streams for a settling period (the `--settle` of the command) before measuring starts, so "
              "that each target is measured in its steady state rather than while it connects and warms up. "
              "*Added latency* is the "
              "relay's p99 round trip minus the p99 round trip of the load generator speaking Gemini Live directly to "
              "the model side at the same number of sessions. A relay *carries* N sessions when all N stay connected for "
              "the whole step, no frame is lost, every session ends cleanly, the stream keeps real time (>= 98 %%) and "
              "the p99 added latency is under %g ms. A relay's steps stop at the first step it does not carry. The "
              "harness itself (the `direct` rows) carries N when the same holds and its own p99 round trip is under "
              "that limit; above that, its own queueing would be counted as the relays' latency, so the run stops.\n" % (MODEL_SIDES.get(model, model), limit_ms))
    md.append("## Machine\n")
    md.append("| | |\n|---|---|")
    for key, value in info.items():
        md.append("| %s | %s |" % (key, value))
    md.append("")
    md.append("## Summary\n")
    md.append("| relay | most sessions carried on one core |\n|---|---|")
    for target in targets:
        name = "direct (load generator + model side, no relay)" if target == "direct" else target
        md.append("| %s | %d |" % (name, best.get(target, 0)))
    md.append("")
    for other in ("node", "python"):
        key = "voicechat_vs_%s" % other
        if key in summary:
            md.append("- VoiceChat carries %.2fx the sessions per core of the %s peer%s." % (
                summary[key], other, " (a lower bound: VoiceChat was still carrying at the harness's limit)" if vc >= harness_limit else ""))
    if any(r["target"] == "direct" and r["verdict"] != "carried" for r in rows):
        md.append("- The harness itself (load generator + model side on one core) carried at most %d sessions; steps above it were not run." % harness_limit)
    else:
        md.append("- The harness itself (load generator + model side on one core) carried every step it ran, up to %d sessions." % harness_limit)
    if cpu_rows and cpu_rows.get("voicechat"):
        n = summary["cpu_seconds_per_session_minute_at"]["sessions"]
        vc_cpu = cpu_rows["voicechat"]
        md.append("- CPU per session at %d sessions, the largest step every relay carried: VoiceChat %.4f CPU seconds per "
                  "session-minute. At that rate one core would serve about %d sessions at 100 %% CPU." % (
                      n, vc_cpu, int(60 / vc_cpu) if vc_cpu else 0))
    for other in ("node", "python"):
        pair = summary.get("cpu_voicechat_vs_%s" % other)
        if pair:
            md.append("- CPU per session against the %s peer at %d sessions, the largest step both carried: VoiceChat %.4f, "
                      "%s %.4f CPU seconds per session-minute (%.2fx less)." % (
                          other, pair["sessions"], pair["voicechat"], other, pair[other], pair[other] / pair["voicechat"]))
    pair = summary.get("cpu_telemetry_on_vs_off")
    if pair:
        md.append("- Telemetry on (OpenTelemetry, every span sampled, metrics exported over OTLP) against off at %d sessions, "
                  "the largest step both carried: %.4f against %.4f CPU seconds per session-minute (%+.1f %%)." % (
                      pair["sessions"], pair["voicechat-otel"], pair["voicechat"], pair["overhead_percent"]))
    if floors:
        md.append("- The kernel floor (a C relay with one `recv` and one `send` per message and nothing else) carried at most "
                  "%d sessions on one core." % summary["floor_max_sessions_carried"])
        for other, ratio in (("node", 3), ("python", 10)):
            # The largest step both carried; else the first step both ran (the peer's CPU is then a lower bound).
            both = [int(n) for n in times_floor.get(other, {}) if n in times_floor.get("voicechat", {})]
            carried = [n for n in both if times_floor[other][str(n)]["carried"] and times_floor["voicechat"][str(n)]["carried"]]
            if not both:
                continue
            n = max(carried) if carried else min(both)
            peer = times_floor[other][str(n)]
            md.append("- At %d sessions the %s peer used %.2fx the floor's CPU per session%s and VoiceChat %.2fx. Using %dx less "
                      "CPU than the %s peer would mean %.2fx the floor." % (
                          n, other, peer["times_floor"], "" if peer["carried"] else " (without carrying the step)",
                          times_floor["voicechat"][str(n)]["times_floor"], ratio, other, peer["times_floor"] / ratio))
    md.append("")
    md.append("## Steps\n")
    md.append("| target | sessions | up / dropped | frames lost | RTT p50 (ms) | RTT p99 (ms) | added p99 (ms) | time to start p99 (ms) | CPU (% of a core) | core busy (softirq) (%) | CPU s / session-min | RSS / session (KiB) | generator CPU (%) | verdict |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        res = r["result"]
        if res.get("missing"):
            md.append("| %s | %d | | | | | | | | | | | | %s |" % (r["target"], r["sessions"], r["verdict"]))
            continue
        server = res.get("server") or {}
        md.append("| %s | %d | %d / %d | %d | %.2f | %.2f | %s | %.1f | %.1f | %s | %.4f | %.1f | %.0f | %s |" % (
            r["target"], r["sessions"], res["sessions_established"], res["sessions_dropped"], res["frames_lost"],
            res["round_trip_ms"]["p50"], res["round_trip_ms"]["p99"],
            "" if r["added_p99_ms"] is None else "%.2f" % r["added_p99_ms"],
            res["time_to_start_ms"]["p99"], server.get("cpu_percent_of_one_core", 0), core_busy(server),
            server.get("cpu_seconds_per_session_minute", 0), server.get("rss_per_session_ki_b", 0),
            res.get("load_gen_cpu_percent_of_one_core", 0), r["verdict"]))
    md.append("")
    md.append("For `direct` rows the CPU and memory columns are the model side's. RSS per session is (resident memory at the "
              "end of the steady state - resident memory before the first session) / sessions. *CPU* is the process's own "
              "time (`/proc/PID/stat`); *core busy* is the whole pinned core's, from `/proc/stat` (core 0 for a relay; core 1, "
              "the model side and the load generator together, for `direct`), with its softirq part in brackets: on loopback "
              "a `send` delivers the data to the receiving socket in a software interrupt on the sender's core. Where the "
              "two agree, the process's CPU is all the load on its core.\n")
    if mem_rows:
        n, frames = memory.split("@")
        md.append("## Resident memory at %s sessions\n" % n)
        md.append("The same measurement once more at %s sessions of %s ms frames (a frame rate the harness keeps up with "
                  "at that count), for the memory a session costs when many are open.\n" % (n, frames))
        md.append("| target | sessions | up / dropped | frames lost | RTT p99 (ms) | added p99 (ms) | CPU (% of a core) | CPU s / session-min | RSS steady (MiB) | RSS / session (KiB) | verdict |")
        md.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in mem_rows:
            res = r["result"]
            if res.get("missing"):
                md.append("| %s | %d | | | | | | | | | %s |" % (r["target"], r["sessions"], r["verdict"]))
                continue
            server = res.get("server") or {}
            md.append("| %s | %d | %d / %d | %d | %.2f | %s | %.1f | %.4f | %.1f | %.1f | %s |" % (
                r["target"], r["sessions"], res["sessions_established"], res["sessions_dropped"], res["frames_lost"],
                res["round_trip_ms"]["p99"], "" if r["added_p99_ms"] is None else "%.2f" % r["added_p99_ms"],
                server.get("cpu_percent_of_one_core", 0), server.get("cpu_seconds_per_session_minute", 0),
                server.get("rss_steady_bytes", 0) / 1048576.0, server.get("rss_per_session_ki_b", 0), r["verdict"]))
        md.append("")
    if floors:
        md.append("## Kernel floor\n")
        md.append("`bench/native/tcp_floor.c`: a C relay pinned to core 0 that forwards bytes between each client connection "
                  "and its own upstream connection with one `recv` and one `send` per message (epoll, one thread, no "
                  "WebSocket framing, JSON or base64), driven by a C client that paces the same frames in real time and a "
                  "C echo on core 1. It is what loopback TCP alone costs per relayed frame on this machine: a lower bound "
                  "for the CPU per session of any relay that makes one system call per message. Its round trip is its whole "
                  "added latency (the C harness adds next to nothing); it carries N under the same limit of %g ms.\n" % limit_ms)
        floor_targets = [t for t in targets if t != "direct"]
        md.append("| sessions | frames lost | RTT p50 (ms) | RTT p99 (ms) | CPU (% of a core) | CPU s / session-min | "
                  + "".join("%s / floor | " % t for t in floor_targets) + "verdict |")
        md.append("|---|---|---|---|---|---|" + "---|" * len(floor_targets) + "---|")
        for r in floors:
            res = r["result"]
            if res.get("missing"):
                md.append("| %d |" % r["sessions"] + " |" * (5 + len(floor_targets)) + " %s |" % r["verdict"])
                continue
            server = res.get("server") or {}
            multiples = []
            for t in floor_targets:
                cell = times_floor.get(t, {}).get(str(r["sessions"]))
                multiples.append("" if cell is None else "%.2fx%s" % (cell["times_floor"], "" if cell["carried"] else " (not carried)"))
            md.append("| %d | %d | %.2f | %.2f | %.1f | %.4f | %s%s |" % (
                r["sessions"], res["frames_lost"], res["round_trip_ms"]["p50"], res["round_trip_ms"]["p99"],
                server.get("cpu_percent_of_one_core", 0), server.get("cpu_seconds_per_session_minute", 0),
                "".join("%s | " % m for m in multiples), r["verdict"]))
        md.append("")
    if chart_made:
        md.append("![p99 added latency and CPU against sessions](chart.png)\n")
    md.append("Raw results of every step: `raw/*.json` (load generator output), `raw/memory/*.json`, `raw/floor/*.json` (floor client output).\n")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md))


def chart(out, rows, relays, limit_ms, floors):
    if not relays:
        return False
    data_files = []
    for relay in relays:
        points = [r for r in rows if r["target"] == relay and not r["result"].get("missing")]
        if not points:
            continue
        path = os.path.join(out, "chart-%s.dat" % relay)
        with open(path, "w") as f:
            for r in points:
                server = r["result"].get("server") or {}
                # Log scale: an added latency at or below 0.1 ms (or below the baseline) is drawn at 0.1 ms.
                added = max(0.1, r["added_p99_ms"]) if r["added_p99_ms"] is not None else float("nan")
                f.write("%d %s %s\n" % (r["sessions"], added, server.get("cpu_percent_of_one_core", "nan")))
        data_files.append((relay, path))
    if not data_files:
        return False
    script = [
        "set terminal pngcairo size 1400,560 font 'DejaVu Sans,11'",
        "set output '%s'" % os.path.join(out, "chart.png"),
        "set multiplot layout 1,2 title 'VoiceChat relay vs baseline relays (each pinned to one core; 40 ms frames)'",
        "set logscale x 2", "set xrange [70:5800]", "set xtics (100, 250, 500, 1000, 2000, 4000)",
        "set grid", "set key top left", "set xlabel 'concurrent sessions'",
        "set logscale y 10", "set yrange [0.1:*]",
        "set ylabel 'p99 added latency (ms, log scale)'", "set title 'p99 added latency (relay p99 - direct p99)'",
    ]
    plots = ["'%s' using 1:2 with linespoints lw 2 pt 7 title '%s'" % (path, relay) for relay, path in data_files]
    plots.append("%g with lines dt 2 lc rgb 'red' title 'carry limit (%g ms)'" % (limit_ms, limit_ms))
    script.append("plot " + ", ".join(plots))
    script += ["unset logscale y", "set ylabel 'CPU (% of one core)'", "set title 'relay CPU during the steady state'", "set yrange [0:110]"]
    plots = ["'%s' using 1:3 with linespoints lw 2 pt 7 title '%s'" % (path, relay) for relay, path in data_files]
    floor_points = [r for r in floors if not r["result"].get("missing")]
    if floor_points:
        path = os.path.join(out, "chart-floor.dat")
        with open(path, "w") as f:
            for r in floor_points:
                f.write("%d nan %s\n" % (r["sessions"], (r["result"].get("server") or {}).get("cpu_percent_of_one_core", "nan")))
        data_files.append(("floor", path))
        plots.append("'%s' using 1:3 with linespoints lw 2 dt 3 pt 6 lc rgb 'black' title 'kernel floor (C relay)'" % path)
    plots.append("100 with lines dt 2 lc rgb 'gray' title 'one core'")
    script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    try:
        subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True, timeout=60, capture_output=True)
    except subprocess.CalledProcessError as error:
        print("chart not made: %s" % error.stderr, file=sys.stderr)
        return False
    except (OSError, subprocess.SubprocessError) as error:
        print("chart not made: %s" % error, file=sys.stderr)
        return False
    for _, path in data_files:
        os.remove(path)
    return True


def resume_line(result):
    if result.get("missing"):
        return "no result"
    r = result.get("resume") or {}
    started, missed = r.get("to_session_started_ms", {}), r.get("to_first_missed_frame_ms", {})
    return ("%d/%d up, %d dropped, %d lost; %d cuts, %d resumed (%d with missed frames); to session_started p50 %.2f p95 %.2f p99 %.2f ms; "
            "to first missed frame p50 %.2f p95 %.2f p99 %.2f ms; repeated %d, skipped %d, corrupt %d") % (
        result["sessions_established"], result["sessions_requested"], result["sessions_dropped"], result["frames_lost"],
        r.get("cuts", 0), r.get("resumed", 0), r.get("resumes_with_missed", 0),
        started.get("p50", 0), started.get("p95", 0), started.get("p99", 0),
        missed.get("p50", 0), missed.get("p95", 0), missed.get("p99", 0),
        result.get("frames_out_of_order", 0), result.get("frames_skipped", 0), r.get("frames_corrupt", 0))


def resume_report(out, command, model="echo"):
    runs = []
    for run_dir in sorted(glob.glob(os.path.join(out, "raw", "run-*")), key=lambda d: int(d.rsplit("-", 1)[1])):
        plain, counting, resume = (load(os.path.join(run_dir, name + ".json")) for name in ("memory-plain", "memory-counting", "resume"))

        def kib(result):
            return (result.get("server") or {}).get("rss_per_session_ki_b")

        difference = None if kib(plain) is None or kib(counting) is None else round(kib(counting) - kib(plain), 1)
        runs.append({"run": os.path.basename(run_dir), "memory_plain": plain, "memory_counting": counting,
                     "memory_difference_kib_per_session": difference, "resume": resume})

    def mib(result):
        return (result.get("server") or {}).get("rss_steady_bytes", 0) / 1048576

    def cpu(result):
        return (result.get("server") or {}).get("cpu_percent_of_one_core", 0)

    def yes(result):
        return "yes" if result.get("passed") else "no"

    lines = ["# What resuming costs the VoiceChat relay", "",
             "Command: `%s`, on %s. The relay (the sample as its image runs it) on core 0; the load generator and the model side (%s) on core 1; loopback only." % (
                 command, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "native/gemini_echo.c" if model == "echo" else "the emulator's echo mode"),
             "", "## Resident memory per session: the resume buffers at steady streaming", "",
             "The same load without and with a counting client (`\"received\":0` in `start_session`, an `ack` every few numbered "
             "server messages, sent with the next microphone frame), each on a fresh relay, in alternating order. "
             "Per session: the relay's resident memory at the end of the steady state minus before the load, divided by the sessions. "
             "A counting client's messages are kept until its `ack` arrives, so when the relay falls behind (a round trip far above "
             "the frame length: core 0 shared with other work) the buffers hold seconds of audio instead of a few messages, "
             "and the difference is the backlog's, not the steady state's.", "",
             "| run | sessions | frames | not counting (KiB/session) | counting (KiB/session) | difference (KiB/session) | RSS not counting / counting (MiB) | round trip p50 / p99 not counting; counting (ms) | relay CPU not counting / counting (% of a core); core 0 busy | both passed |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        plain, counting = run["memory_plain"], run["memory_counting"]
        if plain.get("missing") or counting.get("missing"):
            lines.append("| %s | no result | | | | | | | | no |" % run["run"])
            continue
        ack = (counting.get("counting") or {}).get("ack_every", "?")
        lines.append("| %s | %d | %d ms | %.1f | %.1f (ack every %s) | **%+.1f** | %.1f / %.1f | %.1f / %.1f; %.1f / %.1f | %.0f / %.0f; %.0f / %.0f %% | %s |" % (
            run["run"], plain["sessions_requested"], plain["frame_ms"],
            plain["server"]["rss_per_session_ki_b"], counting["server"]["rss_per_session_ki_b"], ack,
            run["memory_difference_kib_per_session"], mib(plain), mib(counting),
            plain["round_trip_ms"]["p50"], plain["round_trip_ms"]["p99"], counting["round_trip_ms"]["p50"], counting["round_trip_ms"]["p99"],
            cpu(plain), cpu(counting), plain["server"].get("core_busy_percent", 0), counting["server"].get("core_busy_percent", 0),
            "yes" if plain.get("passed") and counting.get("passed") else "no"))
    lines += ["", "## Resume latency", "",
              "Each session cuts its connection (the socket aborted, no close frame) right after a microphone frame was handed "
              "to it, so that audio is in flight both ways, then reconnects and sends `start_session` with its `resume_token` and "
              "its count; the cuts are spread evenly over the sessions and the steady state. Timed from the start of the reconnect "
              "(TCP connect) to `session_started` (every resume) and to the first frame the client had missed (resumes where the "
              "server had received a frame whose echo the client had not). Every echo is checked: no frame skipped, repeated, "
              "reordered or with other audio than was sent, and every frame sent came back.", "",
              "| run | sessions | frames | cuts / resumed (`resumed:true`) / with missed frames | to `session_started` p50 / p95 / p99 / max (ms) | to first missed frame p50 / p95 / p99 / max (ms) | frames sent / lost | repeated / skipped / corrupt | relay CPU (% of a core) | passed |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        result = run["resume"]
        if result.get("missing"):
            lines.append("| %s | no result | | | | | | | | no |" % run["run"])
            continue
        r = result["resume"]
        started, missed = r["to_session_started_ms"], r["to_first_missed_frame_ms"]
        lines.append("| %s | %d | %d ms | %d / %d / %d | %.2f / %.2f / %.2f / %.2f | %.2f / %.2f / %.2f / %.2f | %d / %d | %d / %d / %d | %.0f | %s |" % (
            run["run"], result["sessions_requested"], result["frame_ms"], r["cuts"], r["resumed"], r["resumes_with_missed"],
            started["p50"], started["p95"], started["p99"], started["max"], missed["p50"], missed["p95"], missed["p99"], missed["max"],
            result["frames_sent"], result["frames_lost"], result["frames_out_of_order"], result["frames_skipped"], r["frames_corrupt"],
            cpu(result), yes(result)))
    load_averages = sorted({r[k].get("load_average_at_start") for r in runs for k in ("memory_plain", "memory_counting", "resume") if r[k].get("load_average_at_start")})
    lines += ["", "Load average when the runs began (other work on the machine skews every number): %s." % "; ".join(load_averages),
              "Raw load generator results: `raw/run-R/memory-plain.json`, `memory-counting.json`, `resume.json`.", ""]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"command": command, "machine": machine(os.path.dirname(os.path.abspath(__file__))), "runs": runs}, f, indent=2)
        f.write("\n")


def main(argv):
    if len(argv) >= 4 and argv[0] == "verdict":
        result = load(argv[1])
        direct = result if argv[1] == argv[2] else load(argv[2])
        print(verdict(result, direct, float(argv[3])))
    elif len(argv) >= 3 and argv[0] == "line":
        result = load(argv[1])
        direct = result if argv[1] == argv[2] else load(argv[2])
        print(line(result, direct))
    elif len(argv) >= 3 and argv[0] == "floor-verdict":
        print(floor_verdict(load(argv[1]), float(argv[2])))
    elif len(argv) >= 2 and argv[0] == "floor-line":
        print(floor_line(load(argv[1])))
    elif len(argv) >= 2 and argv[0] == "resume-line":
        print(resume_line(load(argv[1])))
    elif len(argv) >= 3 and argv[0] == "resume-report":
        resume_report(argv[1], argv[2], argv[3] if len(argv) > 3 else "echo")
    elif len(argv) >= 5 and argv[0] == "report":
        report(argv[1], argv[2], float(argv[3]), argv[4], argv[5] if len(argv) > 5 else "", argv[6] if len(argv) > 6 else "echo")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
