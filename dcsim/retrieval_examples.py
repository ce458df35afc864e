"""Image retrieval examples for the report: what compression changes in what a network retrieves.

Part of the application layer (DESIGN §6), called by `dcsim.run_metadata` (`run.json`'s
`retrieval`). Retrieval: each test image of the digits split is a query; the train split is
the gallery, ranked by the cosine similarity of the network's features
(`workloads.evaluation.retrieval`). For each digits network of a sweep, two compressed points
are shown (as in the seed's picture of retrieval results):

- **most compressed within `LOSS_POINTS` top-1 point(s) of dense**: the highest compression
  ratio among the measured settings whose top-1 is at least dense top-1 − 1 point;
- **about `TARGET_RATIO`×**: the measured setting whose compression ratio is closest to 12×
  (on a log scale), when it is another setting.

For each, `QUERIES_SHOWN` queries are shown: first those where the dense and the compressed
network DISAGREE (the class of their first retrieved image differs, then the number of
relevant images among the first 10 differs most), then queries in test order; each example
says whether it is a disagreement, and `disagreements` counts them over all queries (0: the
two networks agree on every query, and the example says so). Each row: the query and its
ground-truth class, the dense network's top-5 and the compressed network's top-5 (images and
classes), with mAP and precision@10 of both networks over all queries.

Evaluating the picked networks costs seconds (about 11 s for the default sweep), and the
entries are a pure function of the measured settings, their compression definitions, the code
and the libraries, so each network's entries are cached by that content
(`cache_dir()/retrieval/`): a resumed or warm run of the same sweep reads them back.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dcsim.config import DesignPoint

LOSS_POINTS = 1.0  # top-1 points the most compressed example may lose against dense
TARGET_RATIO = 12.0  # the seed's example compression ratio
QUERIES_SHOWN = 4
RESULTS_SHOWN = 5


def _settings(points: list[DesignPoint], totals: pd.DataFrame, label: str) -> pd.DataFrame:
    """One row per measured compression setting of network `label`: a point of it, top-1 and
    its median compression ratio over the hardware variants."""
    from dcsim.compression_setting import compression_only

    ok = totals
    if "status" in ok:
        ok = ok[ok["status"] == "ok"]
    ok = ok[(ok["network"] == label) & ok["top1"].notna() & ok["compression_ratio"].notna()]
    if ok.empty:
        return ok
    by_id = {p.point_id: p for p in points if p.network.label == label}
    ok = ok[ok["point_id"].isin(by_id)]
    setting = ok["point_id"].map(lambda i: compression_only(by_id[i]).point_id)
    grouped = ok.assign(setting=setting).groupby("setting", sort=True)
    return pd.DataFrame(
        {
            "point_id": grouped["point_id"].first(),
            "top1": grouped["top1"].first(),
            "compression_ratio": grouped["compression_ratio"].median(),
        }
    ).reset_index(drop=True)


def pick_points(settings: pd.DataFrame, dense_top1: float) -> list[tuple[str, str]]:
    """(role, point_id) of the points shown (module docstring), in order, without repeats."""
    picks: list[tuple[str, str]] = []
    if settings.empty:
        return picks
    near = settings[settings["top1"] >= dense_top1 - LOSS_POINTS / 100.0 - 1e-12]
    if not near.empty:
        best = near.sort_values(["compression_ratio", "point_id"], ascending=[False, True])
        picks.append(
            (
                f"most compressed within {LOSS_POINTS:g} top-1 point of dense",
                str(best.iloc[0]["point_id"]),
            )
        )
    distance = (np.log(settings["compression_ratio"]) - math.log(TARGET_RATIO)).abs()
    closest = settings.assign(distance=distance).sort_values(["distance", "point_id"])
    point_id = str(closest.iloc[0]["point_id"])
    if point_id not in {p for _, p in picks}:
        picks.append((f"about {TARGET_RATIO:g}x compressed", point_id))
    return picks


def _relevant(top: tuple, gallery_labels: np.ndarray, label: int) -> int:
    return int(np.sum(gallery_labels[list(top)] == label))


def pick_queries(
    dense_top: tuple, compressed_top: tuple, query_labels: np.ndarray, gallery_labels: np.ndarray
) -> tuple[list[int], list[bool], int]:
    """The queries shown, whether each is a disagreement, and the number of disagreements:
    queries whose first retrieved classes differ or whose relevant counts among the first 10
    differ, strongest disagreement first (module docstring)."""
    scored = []
    for query, (dense, compressed) in enumerate(zip(dense_top, compressed_top)):
        if not dense or not compressed:
            continue
        first = gallery_labels[dense[0]] != gallery_labels[compressed[0]]
        gap = abs(
            _relevant(dense, gallery_labels, query_labels[query])
            - _relevant(compressed, gallery_labels, query_labels[query])
        )
        if first or gap:
            scored.append((-int(first), -gap, query))
    disagreeing = [query for *_, query in sorted(scored)]
    shown = disagreeing[:QUERIES_SHOWN]
    for query in range(len(dense_top)):
        if len(shown) >= QUERIES_SHOWN:
            break
        if query not in shown:
            shown.append(query)
    flags = [query in set(disagreeing) for query in shown]
    return shown, flags, len(disagreeing)


def retrieval_examples(points: list[DesignPoint], results: pd.DataFrame) -> list[dict]:
    """run.json's `retrieval`: one entry per (network, picked point, query); each network's
    entries are read from the cache when an earlier run made them (`_cached_examples`)."""
    if results.empty or "top1" not in results:
        return []
    totals = results[results["row_type"] == "total"] if "row_type" in results else results
    examples = []
    for label in dict.fromkeys(p.network.label for p in points if p.network.weights == "digits"):
        settings = _settings(points, totals, label)
        if settings.empty:
            continue
        shown = set(settings["point_id"])
        by_id = {p.point_id: p for p in points if p.point_id in shown}
        examples += _cached_examples(label, settings, by_id)
    return examples


def examples_key(label: str, settings: pd.DataFrame, by_id: dict[str, DesignPoint]) -> str:
    """The cache key of one network's retrieval entries: everything `_network_examples` reads —
    the measured settings (their points' ids, top-1 and compression ratios, which decide the
    picks), the compression definition of each setting (which decides the trained networks),
    the code, the named files and the library versions (`dcsim.content_keys`); the torch
    version and CPU kernels are added by `workloads.cache.cache_key`."""
    from dcsim.compression_setting import compression_only
    from dcsim.content_keys import library_versions, named_file_digests, source_fingerprint
    from workloads.cache import cache_key

    definitions = [compression_only(by_id[i]).as_dict() for i in settings["point_id"]]
    return cache_key(
        "retrieval-examples",
        {
            "network": label,
            "settings": {
                "point_id": [str(i) for i in settings["point_id"]],
                "top1": [float(v) for v in settings["top1"]],
                "compression_ratio": [float(v) for v in settings["compression_ratio"]],
            },
            "definitions": definitions,
            "code": source_fingerprint(),
            "files": named_file_digests(definitions),
            "libraries": library_versions(),
            "shown": [LOSS_POINTS, TARGET_RATIO, QUERIES_SHOWN, RESULTS_SHOWN],
        },
    )


def _cached_examples(label: str, settings: pd.DataFrame, by_id: dict) -> list[dict]:
    """`_network_examples`, kept in `cache_dir()/retrieval/<key>.json` (the values go through
    JSON, which reads back exactly what it wrote: a cached entry equals a recomputed one)."""
    import json

    from workloads.cache import cache_dir, keep_file

    path = cache_dir() / "retrieval" / f"{examples_key(label, settings, by_id)}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, list):
            return cached
    except (OSError, ValueError):
        pass  # missing or damaged: recompute (and overwrite)
    examples = _network_examples(label, settings, by_id)
    keep_file(path, lambda temp: temp.write_text(json.dumps(examples), encoding="utf-8"))
    return examples


def _network_examples(label: str, settings: pd.DataFrame, by_id: dict) -> list[dict]:
    """The retrieval entries of network `label` from its measured `settings` (`_settings`)."""
    from dcsim.compression_setting import compression_only
    from dcsim.trained_models import accuracy_report, seeded_setup, thumbnail

    examples = []
    first = accuracy_report(compression_only(by_id[settings.iloc[0]["point_id"]]))
    dense = first.dense
    for role, point_id in pick_points(settings, dense.top1):
        point = by_id[point_id]
        report = accuracy_report(compression_only(point))
        split = seeded_setup(point).split()
        compressed = report.compressed_eval
        query_labels, gallery_labels = split.y_test.numpy(), split.y_train.numpy()
        queries, flags, count = pick_queries(
            report.dense.retrieval_top, compressed.retrieval_top, query_labels, gallery_labels
        )
        ratio = float(settings.loc[settings["point_id"] == point_id, "compression_ratio"].iloc[0])
        note = "" if count else "the dense and compressed networks agree on every query"
        for query, disagree in zip(queries, flags):
            examples.append(
                {
                    "network": label,
                    "point_id": point_id,
                    "role": role,
                    "compression_ratio": ratio,
                    "top1_dense": report.dense.top1,
                    "top1_compressed": compressed.top1,
                    "map_dense": report.dense.map,
                    "map_compressed": compressed.map,
                    "precision_at_10_dense": report.dense.precision_at_10,
                    "precision_at_10_compressed": compressed.precision_at_10,
                    "query_index": int(query),
                    "disagree": bool(disagree),
                    "disagreements": int(count),
                    "queries": len(query_labels),
                    "note": note,
                    "query_image": thumbnail(split.x_test[query]),
                    "query_label": int(query_labels[query]),
                    "dense_top5": _hits(report.dense.retrieval_top[query], split),
                    "compressed_top5": _hits(compressed.retrieval_top[query], split),
                }
            )
    return examples


def _hits(top: tuple, split) -> list[dict]:
    from dcsim.trained_models import thumbnail

    return [
        {"image": thumbnail(split.x_train[i]), "label": int(split.y_train[i])}
        for i in top[:RESULTS_SHOWN]
    ]
