"""Write reviews.csv: short reviews of an imaginary neighbourhood café, each with the
reviewer's overall verdict (positive or negative). Deterministic; run from this folder:

    python make_reviews.py

Each review is one to eight sentences about aspects of a visit (coffee, cakes, staff, ...), each
sentence praising, criticising or just describing. The label is the sign of the sentences'
summed polarity, with a closing verdict when they cancel. About one sentence in twelve is
negated praise ("was not exactly great"), which a bag-of-words model reads the wrong way:
the AI of the example study makes mistakes, as a real one does.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

SEED = 13
COUNT = 360
ASPECTS = {
    "coffee": ("The coffee", "My flat white", "The espresso", "The filter coffee"),
    "food": ("The cinnamon bun", "The soup of the day", "The lemon cake", "My sandwich",
             "The porridge", "The almond croissant"),
    "staff": ("The staff", "The barista", "The waiter", "The woman at the counter"),
    "place": ("The room", "The terrace", "The music", "The corner by the window"),
    "price": ("The prices", "The bill", "A slice of cake at that price"),
    "wait": ("The queue", "The wait for our order", "Getting a table"),
}
PRAISE = {
    "coffee": ("was rich and smooth", "was excellent", "tasted wonderful", "was perfectly hot"),
    "food": ("was delicious", "was fresh and generous", "was lovely", "was the best in town"),
    "staff": ("was friendly and quick", "was kind to the children", "was cheerful",
              "remembered my usual order"),
    "place": ("was cosy", "was bright and calm", "felt welcoming", "was a pleasure"),
    "price": ("was fair", "was reasonable", "was good value"),
    "wait": ("was short", "took no time at all", "was easy even on Saturday"),
}
CRITICISM = {
    "coffee": ("was bitter", "was lukewarm", "tasted burnt", "was weak and watery"),
    "food": ("was stale", "was dry", "was bland", "was tiny and overpriced"),
    "staff": ("was rude", "ignored us", "was slow and careless", "got our order wrong"),
    "place": ("was noisy", "was dirty", "was cramped and cold", "smelled of old fat"),
    "price": ("was far too high", "was a rip-off", "felt greedy"),
    "wait": ("was endless", "took forty minutes", "was chaotic"),
}
NEUTRAL = ("We came on a Tuesday morning.", "I was there with two friends.",
           "It is near the station.", "We sat inside.", "I had a meeting nearby.",
           "They take cards only.", "It was raining that day.", "I ordered at the counter.")
VERDICT = {1: ("I will be back.", "Recommended.", "Worth the visit."),
           -1: ("I will not go again.", "Avoid.", "Not worth it.")}


def sentence(rng: random.Random) -> tuple[str, int]:
    """One sentence and its polarity (+1, -1, or 0 for a description)."""
    if rng.random() < 0.15:
        return rng.choice(NEUTRAL), 0
    aspect = rng.choice(list(ASPECTS))
    subject = rng.choice(ASPECTS[aspect])
    praise = [p.removeprefix("was ") for p in PRAISE[aspect] if p.startswith("was ")]
    if rng.random() < 0.08:  # negated praise: the words of praise, the meaning of criticism
        return f"{subject} was not exactly {rng.choice(praise)}.", -1
    if rng.random() < 0.5:
        return f"{subject} {rng.choice(PRAISE[aspect])}.", 1
    return f"{subject} {rng.choice(CRITICISM[aspect])}.", -1


def review(rng: random.Random) -> tuple[str, str]:
    length = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8))
    sentences, score = [], 0
    while len(sentences) < length:
        text, polarity = sentence(rng)
        if text not in sentences:
            sentences.append(text)
            score += polarity
    if score == 0:
        score = rng.choice((1, -1))
        sentences.append(rng.choice(VERDICT[score]))
    return " ".join(sentences), "positive" if score > 0 else "negative"


def main() -> None:
    rng = random.Random(SEED)
    rows = [review(rng) for _ in range(COUNT)]
    path = Path(__file__).resolve().parent / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["review_id", "review", "verdict"])
        for i, (text, label) in enumerate(rows, start=1):
            writer.writerow([f"R{i:04d}", text, label])


if __name__ == "__main__":
    main()
