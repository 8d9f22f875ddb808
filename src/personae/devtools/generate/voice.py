"""What customers write: survey comments, review texts, support messages and social posts whose
theme and sentiment follow what they went through (a failed delivery → a negative delivery
text; a returned item → a returns or quality complaint; a happy loyal customer → praise).

Texts are drawn from phrase banks per theme and sentiment (a phrase, sometimes with a closing
remark), a few percent in other languages (which personae must flag, not score), and some of
the unhappy ones name a competitor. Everything is a code into :data:`TEXTS`, so a million rows
cost one ``take``. Draws come from the caller's generator (the voice module's own stream), so
adding texts never shifts any other module's data.
"""

from __future__ import annotations

import numpy as np

THEMES = ("delivery", "price", "staff", "quality", "returns", "website")
DELIVERY, PRICE, STAFF, QUALITY, RETURNS, WEBSITE = range(len(THEMES))
SENTIMENTS = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = range(len(SENTIMENTS))

_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "delivery": {
        "negative": (
            "My parcel never arrived and tracking has not moved in a week.",
            "Delivery was late again, the courier missed the slot.",
            "Package turned up three days late and the box was crushed.",
            "Still waiting for my order, the delivery date keeps slipping.",
            "The courier left the parcel outside in the rain.",
            "Paid for next day delivery and it took a week.",
        ),
        "neutral": (
            "Delivery took four working days.",
            "The parcel was left with a neighbour.",
            "Tracking updates came by email.",
            "The courier came in the afternoon.",
        ),
        "positive": (
            "Fast delivery, the parcel arrived a day early.",
            "Delivery was quick and the courier was friendly.",
            "Ordered in the evening and it was delivered the next morning.",
            "Great tracking and the parcel came right on time.",
        ),
    },
    "price": {
        "negative": (
            "Prices have gone up a lot, too expensive now.",
            "Way overpriced compared to other shops.",
            "The discount code did not work at checkout.",
            "Shipping costs are far too high for small orders.",
        ),
        "neutral": (
            "Prices are about the same as elsewhere.",
            "I waited for the sale to buy it.",
            "The voucher was applied to the total.",
        ),
        "positive": (
            "Good prices and the sale discounts are generous.",
            "Great value for money, cheaper than other shops.",
            "Loved the member discount, a real bargain.",
        ),
    },
    "staff": {
        "negative": (
            "Nobody answered the phone, I was on hold for forty minutes.",
            "The support agent was rude and did not help.",
            "Had to contact support three times to get an answer.",
            "Store staff ignored me at the till.",
        ),
        "neutral": (
            "I spoke to an agent about my order.",
            "The staff checked the stock room for my size.",
            "Support replied to my email the next day.",
        ),
        "positive": (
            "The staff in store were really helpful.",
            "Support sorted out my problem in minutes, very friendly agent.",
            "Lovely team at the store, great advice on sizes.",
        ),
    },
    "quality": {
        "negative": (
            "Item was damaged, very disappointed.",
            "The seams came apart after two washes, poor quality.",
            "Cheap material, it broke within a week.",
            "The product stopped working after a few days.",
        ),
        "neutral": (
            "The fabric is thinner than I expected.",
            "The size runs a little small.",
            "The colour is darker than on the photo.",
        ),
        "positive": (
            "Excellent quality, the material feels premium.",
            "Really comfortable and well made.",
            "Great product, exactly as described and sturdy.",
        ),
    },
    "returns": {
        "negative": (
            "Return took weeks to be refunded.",
            "Still no refund a month after I sent the item back.",
            "The return label never came and support could not help.",
            "I was charged for sending the wrong size back.",
        ),
        "neutral": (
            "I sent the item back for a smaller size.",
            "The refund went to my original card.",
            "I printed the return label at home.",
        ),
        "positive": (
            "Returns were easy and the refund came in two days.",
            "Free returns and a quick refund, no hassle at all.",
            "Exchanging the size was simple and fast.",
        ),
    },
    "website": {
        "negative": (
            "Checkout kept failing and I had to try three times.",
            "The app keeps crashing when I open my basket.",
            "Website is painfully slow and search finds nothing.",
            "Could not log in to my account, the reset email never came.",
        ),
        "neutral": (
            "I ordered through the website.",
            "The app asked me to update before ordering.",
            "I used the search to find the jacket.",
        ),
        "positive": (
            "Love the app, ordering is so easy.",
            "The website is clear and checkout takes seconds.",
            "Search works well and the filters are handy.",
        ),
    },
}
_ENDINGS = {
    "negative": ("", " Not happy.", " Very frustrating.", " Please sort this out."),
    "neutral": ("", " That is all."),
    "positive": ("", " Thanks!", " Will shop again.", " Highly recommend."),
}
#: Texts in other languages (flagged by personae, never scored).
FOREIGN = (
    "El paquete llegó tarde y la caja estaba rota.",
    "Muy buena calidad y entrega rápida, gracias.",
    "Livraison rapide, je suis très contente.",
    "Le remboursement prend beaucoup trop de temps.",
    "Die Lieferung kam viel zu spät, sehr ärgerlich.",
    "Sehr freundliches Personal, danke schön.",
    "Il pacco è arrivato in ritardo, servizio pessimo.",
    "Het pakket is nooit aangekomen, erg teleurgesteld.",
)
#: Complaints that name a competitor, by theme (delivery, price, other).
COMPETITOR = (
    "Amazon delivers on time, I will order there next time.",
    "Same jacket is cheaper at Zalando, I am switching.",
    "Decathlon has better quality for the price, not coming back.",
)
FOREIGN_SHARE = 0.03
COMPETITOR_SHARE = 0.12


def _build() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    texts: list[str] = []
    start = np.zeros((len(THEMES), len(SENTIMENTS)), dtype=np.int64)
    count = np.zeros_like(start)
    for t, theme in enumerate(THEMES):
        for s, sentiment in enumerate(SENTIMENTS):
            start[t, s] = len(texts)
            for phrase in _PHRASES[theme][sentiment]:
                texts.extend(phrase + ending for ending in _ENDINGS[sentiment])
            count[t, s] = len(texts) - start[t, s]
    return (*texts, *FOREIGN, *COMPETITOR), start, count


#: Every text the generator writes, addressed by code.
TEXTS, _START, _COUNT = _build()
_FOREIGN0 = len(TEXTS) - len(FOREIGN) - len(COMPETITOR)
_COMPETITOR0 = len(TEXTS) - len(COMPETITOR)


def sentiment_of(relative: np.ndarray) -> np.ndarray:
    """Sentiment codes from a 0–1 satisfaction (score on its scale, rating …)."""
    return np.select([relative >= 0.75, relative > 0.45], [POSITIVE, NEUTRAL], NEGATIVE)


def pick(rng: np.random.Generator, theme: np.ndarray, sentiment: np.ndarray) -> np.ndarray:
    """Text codes: a phrase of each (theme, sentiment); some in another language, and some
    negative delivery, price or quality texts naming a competitor instead."""
    n = len(theme)
    u = rng.random((n, 3))
    code = _START[theme, sentiment] + (u[:, 0] * _COUNT[theme, sentiment]).astype(np.int64)
    rival = np.select([theme == DELIVERY, theme == PRICE], [0, 1], 2)
    names_rival = (
        (sentiment == NEGATIVE) & np.isin(theme, (DELIVERY, PRICE, QUALITY)) & (u[:, 1] < COMPETITOR_SHARE)
    )
    code = np.where(names_rival, _COMPETITOR0 + rival, code)
    foreign = u[:, 2] < FOREIGN_SHARE
    return np.where(foreign, _FOREIGN0 + (u[:, 1] * len(FOREIGN)).astype(np.int64) % len(FOREIGN), code)
