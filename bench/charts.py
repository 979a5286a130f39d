"""The report's PNG charts (matplotlib, no display needed)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402

from bench.results import Results  # noqa: E402
from bench.stats import cdf, percentile  # noqa: E402


def _save(results: Results, figure: Figure, name: str, caption: str) -> None:
    figure.tight_layout()
    figure.savefig(results.folder / name, dpi=110)
    plt.close(figure)
    results.chart(name, caption)


def send_cdf(results: Results, latencies: dict[int, list[float]]) -> None:
    """Latency CDF of sends, one line per concurrency level."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for senders, samples in latencies.items():
        xs, ys = cdf(s * 1000 for s in samples)
        axes.plot(xs, ys, label=f"{senders} senders")
    axes.set_xscale("log")
    axes.set_xlabel("send latency (ms, log scale)")
    axes.set_ylabel("fraction of sends at or below")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    _save(results, figure, "send_latency_cdf.png", "Latency CDF of POST /chat/{id}/messages")


def send_throughput(results: Results, levels: list[tuple[int, float, float, float]]) -> None:
    """Messages/s against concurrency, beside the raw-driver insert rate and the rate of
    a send's store writes alone."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    senders = [level[0] for level in levels]
    axes.plot(senders, [level[1] for level in levels], "o-", label="API sends")
    axes.plot(senders, [level[2] for level in levels], "s--", label="raw single-row inserts")
    axes.plot(senders, [level[3] for level in levels], "^:", label="a send's store writes")
    axes.set_xscale("log")
    axes.set_xticks(senders, [str(s) for s in senders])
    axes.set_xlabel("concurrent senders (writers)")
    axes.set_ylabel("per second")
    axes.grid(True, alpha=0.3)
    axes.legend()
    _save(results, figure, "send_throughput.png", "Send throughput against concurrency")


def docs_per_message(results: Results, shapes: dict[str, float]) -> None:
    """Firestore documents per message for each traffic shape (one per message = 1.0)."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    names = list(shapes)
    bars = axes.bar(names, [shapes[n] for n in names], color="tab:blue")
    axes.bar_label(bars, fmt="%.2f")
    axes.axhline(1.0, color="tab:red", linestyle="--", label="one document per message")
    axes.set_ylabel("Firestore documents per message")
    axes.set_ylim(0, 1.15)
    axes.legend()
    _save(results, figure, "firestore_docs_per_message.png", "Firestore documents per message")


def page_latency(results: Results, depths: dict[int, list[float]]) -> None:
    """History page p50 and p99 against how deep in the history the page is."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    xs = sorted(depths)
    for q, style in ((0.5, "o-"), (0.99, "s--")):
        axes.plot(xs, [percentile(depths[d], q) * 1000 for d in xs], style, label=f"p{q * 100:g}")
    axes.set_xscale("log")
    axes.set_xlabel("depth in history (messages newer than the page)")
    axes.set_ylabel("page latency (ms)")
    axes.set_ylim(bottom=0)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    _save(results, figure, "page_latency_depth.png", "History page latency against depth")


def soak_minutes(results: Results, minutes: list[tuple[int, float, float]]) -> None:
    """Soak latency p50/p99 per minute."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    xs = [m[0] for m in minutes]
    axes.plot(xs, [m[1] for m in minutes], "o-", label="p50")
    axes.plot(xs, [m[2] for m in minutes], "s--", label="p99")
    axes.set_xlabel("minute of the soak")
    axes.set_ylabel("send latency (ms)")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend()
    _save(results, figure, "soak_latency_per_minute.png", "Soak: send latency per minute")
