"""Full-text search benchmarks: BM25 index build rate and query latency on 100 000 docs.

Run: ``uv run python tools/bench/search.py`` (``--docs N``, default 100 000;
``--queries N``, default 1 000; ``--runs N``, default 3). Documents are synthetic but
shaped like prose: a title of 4-10 words and a body of 30-80 words drawn with a
Zipf (s = 1) distribution from a vocabulary whose most frequent words are the
English stopwords (as in real text, where they are about 40 % of the words) followed
by 20 000 pseudo-English words. The commonest content word is in about 4 % of the
documents. Queries are 1-3 content words from the same distribution (a mix of common
and rare terms). One more scenario queries a word that every document contains (the
worst case for BM25: every posting is scored).

Each run builds a fresh index (the build rate includes tokenizing and stemming with
a cold term cache) and times every query once; the table shows, per scenario, the
median over runs of that run's p50 and p99 latency. Results are recorded by hand in
``docs/benchmarks.md`` together with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import time
from collections.abc import Callable
from itertools import accumulate

from topgun_core.search import STOPWORDS, FullTextIndex, LiveSearch
from topgun_core.search._tokenize import _cache as term_cache

VOCABULARY_WORDS = 20_000
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ou", "ea")]
ENDINGS = ["", "", "", "s", "ing", "ed", "er", "ly", "tion", "ness", "al", "ment"]


def vocabulary(rng: random.Random) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < VOCABULARY_WORDS:
        stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))
        words[stem + rng.choice(ENDINGS)] = None
    return list(words)


class Corpus:
    def __init__(self, docs: int, queries: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        content = vocabulary(rng)
        self.words = sorted(word for word in STOPWORDS if len(word) > 1) + content
        weights = [1.0 / rank for rank in range(1, len(self.words) + 1)]
        cumulative = list(accumulate(weights))
        content_cumulative = list(accumulate(weights[len(self.words) - len(content) :]))

        def text(low: int, high: int) -> str:
            return " ".join(
                rng.choices(self.words, cum_weights=cumulative, k=rng.randint(low, high))
            )

        def query() -> str:
            count = rng.randint(1, 3)
            return " ".join(rng.choices(content, cum_weights=content_cumulative, k=count))

        self.docs = [
            (f"doc:{i}", {"title": text(4, 10), "body": text(30, 80) + " everywhere"})
            for i in range(docs)
        ]
        self.queries = [query() for _ in range(queries)]
        self.prefixes = [rng.choice(self.words)[:3] for _ in range(queries)]
        self.phrases = [
            " ".join(doc["body"].split()[3:5]) for _, doc in rng.sample(self.docs, queries)
        ]


def _latencies(run: Callable[[str], object], inputs: list[str]) -> tuple[float, float]:
    timings = []
    for text in inputs:
        start = time.perf_counter()
        run(text)
        timings.append(time.perf_counter() - start)
    timings.sort()
    return timings[len(timings) // 2] * 1e3, timings[int(len(timings) * 0.99)] * 1e3


def one_run(corpus: Corpus) -> dict[str, tuple[float, float]]:
    term_cache.clear()
    gc.collect()
    index = FullTextIndex(["title", "body"])
    start = time.perf_counter()
    for doc_id, doc in corpus.docs:
        index.add(doc_id, doc)
    build = len(corpus.docs) / (time.perf_counter() - start)
    results = {"build (docs/s)": (build, build)}
    queries = corpus.queries
    results["search, limit 10"] = _latencies(lambda q: index.search(q, limit=10), queries)
    results["search, all hits"] = _latencies(index.search, queries)
    results["search, limit 10, a word in every document"] = _latencies(
        lambda q: index.search(q, limit=10), ["everywhere"] * 50
    )
    results["search, limit 10, boost title 2"] = _latencies(
        lambda q: index.search(q, limit=10, boost={"title": 2.0}), queries
    )
    results["match_phrase (2 words), limit 10"] = _latencies(
        lambda q: index.match_phrase(q, limit=10), corpus.phrases
    )
    results["match_prefix (3 chars), limit 10"] = _latencies(
        lambda q: index.match_prefix(q, limit=10), corpus.prefixes
    )
    live = LiveSearch(index, queries[0], limit=10)
    edits = corpus.docs[: len(queries)]
    results["live search: write + refresh"] = _latencies(
        lambda doc_id: live.apply(doc_id, dict(edits[0][1], title=doc_id)),
        [doc_id for doc_id, _ in edits],
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    corpus = Corpus(args.docs, args.queries)
    runs = [one_run(corpus) for _ in range(args.runs)]
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {args.docs} documents, "
        f"{args.queries} queries, median of {args.runs} runs\n"
    )
    print("| scenario | p50 | p99 |")
    print("|---|---:|---:|")
    for name in runs[0]:
        p50 = statistics.median(run[name][0] for run in runs)
        p99 = statistics.median(run[name][1] for run in runs)
        if name.startswith("build"):
            print(f"| index build | {p50:,.0f} docs/s | |")
        else:
            print(f"| {name} | {p50:.2f} ms | {p99:.2f} ms |")


if __name__ == "__main__":
    main()
