"""Reading whole numbers: accuracy on numbers written with real pen digits, and speed, through the
HTTP API of a real server.

    .venv/bin/python -m benchmarks.read_numbers [--numbers 500] [--speed 200] [--seed 0]

The numbers (``model.pen_numbers``): 2 to 6 digits, each number one writer's, laid out as a
person writes on the page's Number canvas (700 × 280): realistic gaps, slight overlaps, size
and baseline jitter. The writers are split in two: w01–w15 (the segmentation's prices were
chosen on their numbers) and w16–w30 (held out), reported apart. Each number is read three ways:

- ``strokes``: its pen strokes to ``POST /api/read``, as the page's Number mode sends them;
- ``image``: the canvas rendered as the page renders it, as a PNG data URL to ``/api/read``;
- ``perfect``: each digit alone (its own strokes, on the same pixel grid) to ``/api/predict``,
  the digits concatenated by ``/api/read``'s rule (a digit whose verdict is ``not_a_digit`` is
  left out of the number): a perfect segmentation. The gap to it is what segmentation costs.
- ``guesses``: the same answers, every digit's best guess kept (as this benchmark counted
  before models had a "not a digit" output): what the eleventh output costs the perfect split.

For each: exact numbers (every digit right, none missing or extra) and digit accuracy
(1 − Σ edit distance ÷ Σ length, over all numbers). Then speed: 4-digit numbers (held-out
writers) to ``/api/read`` as strokes and as a PNG, alternating with the reference taken in the
same run, one digit's 280 × 280 canvas PNG to ``/api/predict``; sequential requests on one
keep-alive connection; medians (p50) and 90th percentiles, and each p50 ÷ the reference's.

The server serves the active model of the data home, ``DIGITS_HOME`` (``./var`` by default, as
for the ``digits`` command; a fresh data home starts on the shipped model).
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from collections import defaultdict

import httpx2
import numpy as np

from app.config import get_settings
from app.live_server import LiveServer
from model import pen_numbers, pendigits

FORMS = ("strokes", "image", "perfect", "guesses")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions to turn a into b."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def data_url(image) -> str:
    return "data:image/png;base64," + base64.b64encode(pendigits.png_bytes(image)).decode()


def digit_alone(number: pen_numbers.PenNumber, index: int) -> str:
    """One digit of a number drawn alone with the number's brush, on the number canvas's pixel
    grid cropped to a whole-pixel box around it (the same pixels, less to encode): a data URL."""
    brush = pendigits.BRUSH * min(number.size)
    x0, y0, x1, y1 = number.boxes[index]
    left, top = int(max(x0 - brush, 0)), int(max(y0 - brush, 0))
    size = (int(x1 + brush) - left + 1, int(y1 + brush) - top + 1)
    strokes = [[(x - left, y - top) for x, y in s] for s in number.digits[index]]
    return data_url(pendigits.render(strokes, size, brush))


def read_all(client: httpx2.Client, numbers: list[pen_numbers.PenNumber]) -> dict[str, list[str]]:
    """Each number read the three ways → {form: [text read]} ('' for a refused request)."""
    read: dict[str, list[str]] = {form: [] for form in FORMS}
    for number in numbers:
        width, height = number.size
        body = {"strokes": number.strokes, "width": width, "height": height}
        answer = client.post("/api/read", json=body)
        read["strokes"].append(answer.json()["number"] if answer.is_success else "")
        image = data_url(pendigits.render(number.strokes, number.size))
        answer = client.post("/api/read", json={"image": image})
        read["image"].append(answer.json()["number"] if answer.is_success else "")
        digits, guesses = [], []
        for index in range(len(number.text)):
            answer = client.post("/api/predict", json={"image": digit_alone(number, index)})
            said = answer.json() if answer.is_success else {"digit": "?", "verdict": ""}
            guesses.append(str(said["digit"]))
            if said["verdict"] != "not_a_digit":
                digits.append(str(said["digit"]))
        read["perfect"].append("".join(digits))
        read["guesses"].append("".join(guesses))
    return read


def report(name: str, numbers: list[pen_numbers.PenNumber], read: dict[str, list[str]]) -> dict:
    truth = [n.text for n in numbers]
    length = sum(len(t) for t in truth)
    writers = sorted({n.writer for n in numbers})
    span = f"{writers[0][-3:]}-{writers[-1][-3:]}"
    print(f"{name}: {len(numbers)} numbers, {length} digits, {len(writers)} writers ({span})")
    figures = {}
    for form in FORMS:
        exact = np.mean([r == t for r, t in zip(read[form], truth)])
        digits = 1 - sum(edit_distance(r, t) for r, t in zip(read[form], truth)) / length
        by_writer = defaultdict(list)
        for number, r in zip(numbers, read[form]):
            by_writer[number.writer].append(r == number.text)
        rates = sorted(float(np.mean(v)) for v in by_writer.values())
        spread = f"median {np.median(rates):.1%}, worst {rates[0]:.1%}"
        print(f"  {form:8} exact {exact:7.2%}   digits {digits:7.2%}   per writer: {spread}")
        figures[form] = (float(exact), float(digits))
    for form in ("strokes", "image"):
        gap = (figures["perfect"][0] - figures[form][0]) * 100
        pairs = list(zip(truth, read[form], read["perfect"]))
        lost = [(t, r) for t, r, p in pairs if p == t != r]
        gained = sum(r == t != p for t, r, p in pairs)
        also = f"{len(lost)} lost that the perfect split reads, {gained} gained"
        print(f"  segmentation costs ({form}): {gap:+.2f} points of exact numbers ({also})")
        if form == "strokes":
            print("  lost (true → read): " + ", ".join(f"{t}→{r}" for t, r in lost[:12]))
    return figures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def speed(client: httpx2.Client, numbers: list[pen_numbers.PenNumber], requests: int) -> dict:
    """p50 (ms) of reading 4-digit numbers, and of the reference: one digit (the first of the
    numbers) drawn on the page's 280 × 280 canvas, to /api/predict."""
    fours = [n for n in numbers if len(n.text) == 4][:20]
    x0, y0 = fours[0].boxes[0][:2]
    one = [[(x - x0 + 70, y - y0 + 60) for x, y in s] for s in fours[0].digits[0]]
    bodies = {
        "predict one digit": [("/api/predict", {"image": data_url(pendigits.render(one))})],
        "read 4 digits, strokes": [
            ("/api/read", {"strokes": n.strokes, "width": n.size[0], "height": n.size[1]})
            for n in fours
        ],
        "read 4 digits, image": [
            ("/api/read", {"image": data_url(pendigits.render(n.strokes, n.size))}) for n in fours
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in bodies}
    for i in range(requests + 20):  # the first 20 rounds warm up
        for name, choices in bodies.items():
            path, body = choices[i % len(choices)]
            started = time.perf_counter()
            client.post(path, json=body).raise_for_status()
            if i >= 20:
                times[name].append((time.perf_counter() - started) * 1000)
    base = statistics.median(times["predict one digit"])
    result = {}
    for name, t in times.items():
        p50 = statistics.median(t)
        p90 = percentile(t, 0.9)
        ratio = p50 / base
        print(f"  {name:24} p50 {p50:6.2f} ms  p90 {p90:6.2f} ms  {ratio:4.2f}× the reference")
        result[name] = p50
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--numbers", type=int, default=500, help="per half of the writers")
    parser.add_argument("--speed", type=int, default=200, help="timed requests of each kind")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    samples = pendigits.load()
    writers = sorted({s.writer for s in samples})
    halves = {"w01-w15 (tuned on)": writers[:15], "w16-w30 (held out)": writers[15:]}
    home = get_settings().home
    started = time.perf_counter()
    server = LiveServer(home, log=home / "read-numbers-server.log")
    with server, httpx2.Client(base_url=server.url, timeout=30) as client:
        version = client.get("/api/model").json()["version"]
        print(f"model {version}, data home {home}")
        figures = {}
        for k, (name, pool) in enumerate(halves.items()):
            numbers = pen_numbers.numbers(samples, args.numbers, [args.seed, k], pool)
            figures[name] = report(name, numbers, read_all(client, numbers))
        print("speed, one request at a time:")
        held_out = pen_numbers.numbers(samples, 200, [args.seed, 9], writers[15:])
        timing = speed(client, held_out, args.speed)
    held = figures["w16-w30 (held out)"]
    print(f"({time.perf_counter() - started:.0f} s)")
    print(
        f"read-numbers: held_out_exact strokes={held['strokes'][0]:.4f} "
        f"image={held['image'][0]:.4f} perfect={held['perfect'][0]:.4f} "
        f"digits strokes={held['strokes'][1]:.4f} image={held['image'][1]:.4f} "
        f"perfect={held['perfect'][1]:.4f} guesses_exact={held['guesses'][0]:.4f} "
        f"p50_ms strokes={timing['read 4 digits, strokes']:.2f} "
        f"image={timing['read 4 digits, image']:.2f} "
        f"predict={timing['predict one digit']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
